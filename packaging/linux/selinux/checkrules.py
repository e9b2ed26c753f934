"""Check a kernel policy against rules.txt (make test-selinux).

usage: checkrules.py POLICY RULES

Uses setools (Debian: python3-setools, which setools depends on), the
library behind sesearch. Prints one line per check; exits 1 if any fails.
"""

import sys

import setools


def unconditional(rule):
    try:
        rule.conditional
        return False
    except setools.exception.RuleNotConditional:
        return True


class Index:
    """Every allow and type_transition rule by (source, target, class).

    One pass over the policy's 130,000 rules: a TERuleQuery per check scans
    them all again (seconds each on a busy machine)."""

    def __init__(self, pol):
        self.pol = pol
        self.rules = {}
        for r in pol.terules():
            if str(r.ruletype) in ("allow", "type_transition"):
                self.rules.setdefault((str(r.source), str(r.target), str(r.tclass)), []).append(r)

    def names(self, name, indirect):
        """The type and, if indirect, every attribute it has (rules name either)."""
        t = self.pol.lookup_type_or_attr(name)
        if not indirect or isinstance(t, setools.policyrep.TypeAttribute):
            return [str(t)]
        return [str(t)] + [str(a) for a in t.attributes()]

    def find(self, ruletype, s, t, c, direct_target=False):
        found = []
        for sn in self.names(s, True):
            for tn in self.names(t, not direct_target):
                found += [r for r in self.rules.get((sn, tn, c), []) if str(r.ruletype) == ruletype]
        return found


def allows(idx, s, t, c, p, direct_target=False):
    return [r for r in idx.find("allow", s, t, c, direct_target) if p in r.perms]


def transitions(idx, s, t, c, default, name):
    return [r for r in idx.find("type_transition", s, t, c)
            if str(r.default) == default and (name is None or getattr(r, "filename", None) == name)]


def check(idx, verb, s, args):
    if verb == "trans":
        t, c, default = args[:3]
        name = args[3] if len(args) > 3 else None
        rules = transitions(idx, s, t, c, default, name)
        return bool(rules), f"type_transition {s} {t}:{c} {default}" + (f' "{name}"' if name else ""), rules
    t, c, p = args
    if verb == "want":
        rules = [r for r in allows(idx, s, t, c, p) if unconditional(r)]
        return bool(rules), f"{s} may {p} {t}:{c}", rules
    if verb in ("never", "none"):
        rules = allows(idx, s, t, c, p, direct_target=(verb == "never"))
        what = f"{s} may not {p} {t}:{c}" + (" (no rule naming it)" if verb == "never" else "")
        return not rules, what, rules
    raise ValueError(f"unknown check {verb!r}")


def main():
    idx = Index(setools.SELinuxPolicy(sys.argv[1]))
    groups, failed, passed = {}, 0, 0
    for line in open(sys.argv[2]):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        if f[0].startswith("@"):
            groups[f[0]] = f[1:]
            continue
        verb, source, args = f[0], f[1], f[2:]
        for s in groups.get(source, [source]):
            ok, what, rules = check(idx, verb, s, args)
            print(("ok:   " if ok else "FAIL: ") + what)
            if ok:
                passed += 1
                continue
            failed += 1
            for r in rules[:3]:
                print("      found:", r)
    print(f"{passed} checks passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

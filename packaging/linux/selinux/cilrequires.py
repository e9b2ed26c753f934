"""Print the names a policy module needs unconditionally (make test-selinux).

usage: cilrequires.py MODULE.cil      (from /usr/libexec/selinux/hll/pp)

libsemanage links a .pp by converting it to CIL with that same converter.
A requirement (typeattributeset/roleattributeset cil_gen_require NAME) in
an (optional ...) block only drops that block where NAME is missing; one
outside every optional block makes the whole module fail to link. The
converter nests the module's optional blocks inside the first one, so the
requirements of an optional block that holds other optional blocks count
as unconditional too: missing, they would drop every block inside.
Prints "type NAME" or "role NAME", one a line.
"""

import re
import sys


def parse(text):
    """The top-level forms of a CIL file as nested lists of atoms."""
    tokens = re.findall(r'"[^"]*"|[()]|[^\s()]+', text)
    stack = [[]]
    for tok in tokens:
        if tok == "(":
            stack.append([])
        elif tok == ")":
            form = stack.pop()
            stack[-1].append(form)
        else:
            stack[-1].append(tok)
    return stack[0]


def requires(forms, needed):
    for f in forms:
        if isinstance(f, list) and len(f) == 3 and f[0] in ("typeattributeset", "roleattributeset") \
                and f[1] == "cil_gen_require":
            needed.add((f[0][: -len("attributeset")], f[2]))


def walk(forms, needed):
    requires(forms, needed)
    for f in forms:
        if isinstance(f, list) and f and f[0] == "optional":
            body = f[2:]
            if any(isinstance(g, list) and g and g[0] == "optional" for g in body):
                walk(body, needed)


def main():
    needed = set()
    walk(parse(open(sys.argv[1]).read()), needed)
    for kind, name in sorted(needed):
        print(kind, name)


if __name__ == "__main__":
    main()

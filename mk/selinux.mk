# SELinux policy module for the rpm (packaging/linux/selinux, docs/packaging.md
# "SELinux"). Included by the root Makefile.
#
#   make selinux        dist/build/selinux/jcmfa.pp.bz2, built with the
#                       reference policy's module Makefile (Debian:
#                       selinux-policy-dev; Fedora: selinux-policy-devel)
#   make test-selinux   (root) links it into a copy of a full policy
#                       (Debian: selinux-policy-default) and checks the
#                       rules and file labels with setools; the host's
#                       policy is not touched

SELINUX_SRC = packaging/linux/selinux
SELINUX_OUT = $(CURDIR)/dist/build/selinux
SELINUX_PP = $(SELINUX_OUT)/jcmfa.pp.bz2
SELINUX_DEVEL_MAKEFILE ?= /usr/share/selinux/devel/Makefile

.PHONY: selinux test-selinux

selinux: $(SELINUX_PP)

# The module Makefile builds every .te in its working directory and leaves
# tmp/ there, so it runs on a copy in dist/build. bzip2 as Fedora ships
# modules (/usr/share/selinux/packages/targeted/NAME.pp.bz2); semodule reads
# it as is.
$(SELINUX_PP): $(SELINUX_SRC)/jcmfa.te $(SELINUX_SRC)/jcmfa.if $(SELINUX_SRC)/jcmfa.fc
	@[ -f $(SELINUX_DEVEL_MAKEFILE) ] || { echo "$(SELINUX_DEVEL_MAKEFILE) not found: apt-get install selinux-policy-dev (Fedora: dnf install selinux-policy-devel)"; exit 1; }
	rm -rf $(SELINUX_OUT) && mkdir -p $(SELINUX_OUT)
	cp $^ $(SELINUX_OUT)/
	$(MAKE) -s -C $(SELINUX_OUT) -f $(SELINUX_DEVEL_MAKEFILE) jcmfa.pp
	bzip2 -9 -c $(SELINUX_OUT)/jcmfa.pp > $@

test-selinux: selinux
	$(SELINUX_SRC)/test-selinux.sh $(SELINUX_PP)

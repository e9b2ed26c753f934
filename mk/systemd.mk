# Booted Debian systems (systemd as PID 1, in systemd-nspawn) with the .deb
# installed as an admin would: packaging/linux/test-systemd.sh says what it
# proves. Root; Debian's mmdebstrap, systemd-container, expect, oathtool.
#
#   make test-systemd                      bookworm and trixie
#   make test-systemd RELEASES=trixie      one of them

.PHONY: test-systemd
test-systemd:
	RELEASES="$(or $(RELEASES),bookworm trixie)" packaging/linux/test-systemd.sh

# Linux packages: .deb and .rpm built with nfpm (docs/packaging.md).
# Included by the root Makefile.
#
#   make packages            dist/jcmfa_$(VERSION)_amd64.deb, dist/jcmfa-$(VERSION)-1.x86_64.rpm
#   make packages VERSION=0.1.1   the same from this checkout under another version
#   make packages PKG_ARCHES="amd64 arm64"   arm64 too (needs gcc-aarch64-linux-gnu, libpam0g-dev:arm64)
#   make test-packages       install, log in, upgrade, remove, purge; lintian; rpm -qpl (root, Debian)

PKG_ARCHES ?= amd64
PKG_MAINTAINER ?= jcmfa maintainers <maintainers@jcmfa.example>
PKG_BUILD = $(CURDIR)/dist/build
PKG_DOCS = $(PKG_BUILD)/docs
PKG_HOST_ARCH := $(shell $(GO) env GOARCH)
# nfpm is pinned in its own module so that its dependencies never change the
# versions the agent itself is built with.
PKG_NFPM = $(PKG_BUILD)/nfpm
# Reproducible: file times, man page dates and the changelog date come from
# the last commit, not from the clock.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

PKG_MULTIARCH_amd64 = x86_64-linux-gnu
PKG_MULTIARCH_arm64 = aarch64-linux-gnu
PKG_CC_amd64 = $(if $(filter amd64,$(PKG_HOST_ARCH)),cc,x86_64-linux-gnu-gcc)
PKG_CC_arm64 = $(if $(filter arm64,$(PKG_HOST_ARCH)),cc,aarch64-linux-gnu-gcc)
PKG_STRIP_amd64 = $(if $(filter amd64,$(PKG_HOST_ARCH)),strip,x86_64-linux-gnu-strip)
PKG_STRIP_arm64 = $(if $(filter arm64,$(PKG_HOST_ARCH)),strip,aarch64-linux-gnu-strip)

.PHONY: packages docs-linux test-packages

packages: $(addprefix package-linux-,$(PKG_ARCHES))
	@ls -l dist/*.deb dist/*.rpm

$(PKG_NFPM): packaging/linux/go.mod packaging/linux/go.sum
	cd packaging/linux && $(GO) build -o $@ github.com/goreleaser/nfpm/v2/cmd/nfpm

# PIE and stripped, as Debian and Fedora ship binaries; the module is stripped
# of everything but its dynamic symbols (pam_sm_* only, see export.map).
stage-linux-%:
	rm -rf $(PKG_BUILD)/$* && mkdir -p $(PKG_BUILD)/$*
	CGO_ENABLED=1 GOOS=linux GOARCH=$* CC=$(PKG_CC_$*) $(GO) build -trimpath -buildmode=pie \
		-ldflags "$(LDFLAGS_GO) -s -w -extldflags=-Wl,-z,relro,-z,now" -o $(PKG_BUILD)/$*/jcmfa-agent ./cmd/agent
	$(MAKE) -C cmd/pam_jcmfa OUT=$(PKG_BUILD)/$* CC=$(PKG_CC_$*)
	$(PKG_STRIP_$*) --strip-unneeded --remove-section=.comment $(PKG_BUILD)/$*/pam_jcmfa.so $(PKG_BUILD)/$*/jcmfa-agent

# Manual, completion, changelog and copyright are the same for every
# architecture; the host's own build writes them.
docs-linux: stage-linux-$(PKG_HOST_ARCH)
	rm -rf $(PKG_DOCS) && mkdir -p $(PKG_DOCS)/man
	$(PKG_BUILD)/$(PKG_HOST_ARCH)/jcmfa-agent man $(PKG_DOCS)/man
	gzip -9n $(PKG_DOCS)/man/*.8
	$(PKG_BUILD)/$(PKG_HOST_ARCH)/jcmfa-agent completion bash > $(PKG_DOCS)/bash-completion
	packaging/linux/changelog.sh "$(VERSION)" "$(PKG_MAINTAINER)" | gzip -9n > $(PKG_DOCS)/changelog.gz
	packaging/linux/copyright.sh $(PKG_BUILD)/$(PKG_HOST_ARCH)/jcmfa-agent > $(PKG_DOCS)/copyright

# The lowest glibc the binaries accept is read from their symbol versions, as
# dpkg-shlibdeps would, so the dependency is neither missing nor too strict.
# The rpm carries the SELinux module (mk/selinux.mk).
package-linux-%: stage-linux-% docs-linux selinux $(PKG_NFPM)
	mkdir -p dist
	libc=$$(readelf -W --dyn-syms $(PKG_BUILD)/$*/jcmfa-agent $(PKG_BUILD)/$*/pam_jcmfa.so \
		| grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1); \
	for p in deb rpm; do \
		ARCH=$* VERSION=$(VERSION) STAGE=$(PKG_BUILD)/$* DOCS=$(PKG_DOCS) \
		DEB_MULTIARCH=$(PKG_MULTIARCH_$*) LIBC_MIN=$$libc \
		MAINTAINER="$(PKG_MAINTAINER)" \
		$(PKG_NFPM) package --config packaging/linux/nfpm.yaml --packager $$p --target dist/ || exit 1; \
	done

test-packages:
	packaging/linux/test-packages.sh

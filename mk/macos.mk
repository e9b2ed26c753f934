# macOS: the agent for launchd and the login-window authorization plugin,
# cross-built on Linux (docs/macos.md). Included by the root Makefile.
#
#   make macos            bin/darwin/jcmfa-agent (universal arm64+x86_64, no cgo)
#                         bin/darwin/jcmfa.bundle (universal Mach-O bundle + Info.plist)
#   make check-macos      the hand-written macOS headers against Apple's values and
#                         layouts; both binaries checked with the LLVM tools (archs,
#                         file type, exports, imports, syslog's binding)
#   make test-authplugin  the plugin's C code on Linux against a real daemon
#   make test-authdb      authdb.sh, the drift watch and doctor's login-window checks
#                         against security/PlistBuddy stand-ins (root; also in make test)
#   make macos-pkg        the .pkg: on a Mac only (packaging/macos/build-pkg.sh)

MACOS_OUT = $(CURDIR)/bin/darwin
MACOS_LIPO ?= $(shell command -v llvm-lipo || command -v llvm-lipo-14 || command -v llvm-lipo-15 || echo llvm-lipo)

.PHONY: macos macos-agent macos-bundle check-macos test-authplugin test-authdb macos-pkg

macos: macos-agent macos-bundle

# One Go build per architecture, joined into one file as Apple's tools would.
macos-agent:
	@mkdir -p $(MACOS_OUT)/build
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS_GO)" \
		-o $(MACOS_OUT)/build/jcmfa-agent.arm64 ./cmd/agent
	GOOS=darwin GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS_GO)" \
		-o $(MACOS_OUT)/build/jcmfa-agent.x86_64 ./cmd/agent
	$(MACOS_LIPO) -create -output $(MACOS_OUT)/jcmfa-agent \
		$(MACOS_OUT)/build/jcmfa-agent.arm64 $(MACOS_OUT)/build/jcmfa-agent.x86_64

macos-bundle:
	$(MAKE) -C authplugin bundle OUT=$(CURDIR)/bin VERSION=$(VERSION)

check-macos: macos
	authplugin/darwin/check_headers.sh
	authplugin/check_macho.sh exe $(MACOS_OUT)/jcmfa-agent
	authplugin/check_macho.sh bundle $(MACOS_OUT)/jcmfa.bundle
	sh -n packaging/macos/scripts/preinstall
	sh -n packaging/macos/scripts/postinstall
	sh -n packaging/macos/uninstall.sh
	sh -n packaging/macos/authdb.sh

# CI=1 turns a missing compiler or daemon build into a failure, not a skip.
test-authplugin:
	$(GO) test -count=1 -v ./authplugin/plugintest/

# The same tests go test ./... runs in make test; this runs only them.
test-authdb:
	$(GO) test -count=1 ./internal/authdb/... ./internal/doctor/
	$(GO) test -count=1 -run LoginWindowDrift ./internal/daemon/

macos-pkg: macos
	packaging/macos/build-pkg.sh $(MACOS_OUT) $(VERSION) $(CURDIR)/dist

# Windows: the agent, the credential provider DLL, the MSI, and the tests that
# run them under wine. Included by the root Makefile (-include mk/*.mk).
#
#   make windows       bin/windows/jcmfa-agent.exe and bin/windows/jcmfa_credprov.dll
#   make test-wine     Go tests (windows build) + the DLL harness, under wine64
#   make msi           dist/jcmfa-$(VERSION)-x64.msi (signed if CERT=cert.pem KEY=key.pem)
#   make test-msi      build a signed MSI with a throwaway certificate, verify the
#                      signatures, check its tables with msiinfo, try wine msiexec
#
# Needs (Debian): g++-mingw-w64-x86-64 wine64 msitools wixl osslsigncode openssl.
# Outside CI a missing tool skips test-wine/test-msi with a note; with CI set
# it is an error, so a CI machine without them cannot pass by running nothing.

WIN_BIN = bin/windows
WIN_TEST = $(WIN_BIN)/test
WINE ?= /usr/lib/wine/wine64
WINESERVER ?= $(dir $(WINE))wineserver
# A throwaway prefix inside bin/: never the user's ~/.wine.
WINEPREFIX ?= $(CURDIR)/bin/wine-prefix
WINE_ENV = WINEPREFIX=$(WINEPREFIX) WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
MINGW_CC = x86_64-w64-mingw32-gcc
# Packages whose tests run on the Windows code paths (pipe, DPAPI, ACLs).
WIN_TEST_PKGS ?= store ipc policy totp engine daemon devicekey doctor accounts printable winsetup
MSI = dist/jcmfa-$(VERSION)-x64.msi

.PHONY: windows windows-agent windows-dll wine-prefix test-wine test-wine-go test-wine-dll msi test-msi

windows: windows-agent windows-dll

windows-agent:
	mkdir -p $(WIN_BIN)
	GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags "$(LDFLAGS_GO)" -o $(WIN_BIN)/jcmfa-agent.exe ./cmd/agent

windows-dll:
	$(MAKE) -C credprovider OUT=$(CURDIR)/$(WIN_BIN)

# prereq NAME TOOL: fail under CI, otherwise say what is missing and stop
# the recipe without failing (the caller checks the marker file).
define win_prereq
	@missing=""; for t in $(1); do command -v $$t >/dev/null 2>&1 || [ -x $$t ] || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
		if [ -n "$$CI" ]; then echo "$@: missing$$missing (apt-get install g++-mingw-w64-x86-64 wine64 msitools wixl osslsigncode)"; exit 1; fi; \
		echo "$@: SKIPPED, missing$$missing"; touch $(WIN_BIN)/.skip-$@; \
	else rm -f $(WIN_BIN)/.skip-$@; fi
endef

# The Go runtime (1.22+) needs bcryptprimitives.dll!ProcessPrng, which wine
# 8.0 lacks; the test-only shim in packaging/windows/wine stands in for it.
wine-prefix:
	@mkdir -p $(WIN_TEST)
	$(MINGW_CC) -shared -O2 -Wall -Werror -o $(WIN_TEST)/bcryptprimitives.dll \
		packaging/windows/wine/bcryptprimitives.c packaging/windows/wine/bcryptprimitives.def -ladvapi32
	@if [ ! -d $(WINEPREFIX)/drive_c/windows/system32 ]; then \
		echo "wine: creating prefix $(WINEPREFIX)"; $(WINE_ENV) $(WINE) wineboot -i >/dev/null 2>&1; \
		$(WINE_ENV) $(WINESERVER) -w; fi
	cp $(WIN_TEST)/bcryptprimitives.dll $(WINEPREFIX)/drive_c/windows/system32/

test-wine:
	@mkdir -p $(WIN_BIN)
	$(call win_prereq,$(MINGW_CC) x86_64-w64-mingw32-g++ $(WINE))
	@[ -f $(WIN_BIN)/.skip-$@ ] || $(MAKE) --no-print-directory test-wine-go test-wine-dll

# Each package's test binary is built for Windows and run under wine from
# inside the package directory (tests read testdata/ relative to it);
# gotest_wine.sh judges the output (it knows one wine gap, see there).
test-wine-go: wine-prefix
	@mkdir -p $(WIN_TEST)
	@failed=""; for p in $(WIN_TEST_PKGS); do \
		rm -f $(WIN_TEST)/$$p.test.exe; \
		echo "== GOOS=windows go test -c ./internal/$$p && wine64 $$p.test.exe -test.v"; \
		GOOS=windows GOARCH=amd64 $(GO) test -c -o $(WIN_TEST)/$$p.test.exe ./internal/$$p || { failed="$$failed $$p(build)"; continue; }; \
		[ -f $(WIN_TEST)/$$p.test.exe ] || { echo "   no Windows tests in ./internal/$$p"; continue; }; \
		$(WINE_ENV) WINE=$(WINE) sh packaging/windows/wine/gotest_wine.sh internal/$$p \
			$(CURDIR)/$(WIN_TEST)/$$p.test.exe $(WIN_TEST)/$$p.log || failed="$$failed $$p"; \
	done; \
	if [ -n "$$failed" ]; then echo "Go tests under wine failed:$$failed (logs: $(WIN_TEST)/PKG.log)"; exit 1; fi; \
	echo "Go tests under wine: all packages passed"

test-wine-dll: windows wine-prefix
	$(MAKE) -C credprovider harness OUT=$(CURDIR)/$(WIN_BIN)
	WINEPREFIX=$(WINEPREFIX) WINE=$(WINE) sh credprovider/test/run_wine.sh $(WIN_BIN)

# ---- MSI ---------------------------------------------------------------------

# sign FILE: Authenticode with osslsigncode when CERT and KEY are given.
define win_sign
	@if [ -n "$(CERT)" ]; then \
		osslsigncode sign -certs $(CERT) -key $(KEY) -n "jcmfa" -h sha256 -in $(1) -out $(1).signed && mv $(1).signed $(1) && \
		echo "signed $(1)"; fi
endef

msi: windows
	@command -v wixl >/dev/null || { echo "msi: wixl missing (apt-get install wixl msitools)"; exit 1; }
	$(call win_sign,$(WIN_BIN)/jcmfa-agent.exe)
	$(call win_sign,$(WIN_BIN)/jcmfa_credprov.dll)
	mkdir -p dist
	wixl -a x64 -D Version=$(VERSION) -D BinDir=$(WIN_BIN) -o $(MSI) packaging/windows/jcmfa.wxs
	$(call win_sign,$(MSI))
	@echo "built $(MSI)"

# A throwaway self-signed certificate (never committed: it lives in bin/).
$(WIN_TEST)/sign/cert.pem:
	mkdir -p $(WIN_TEST)/sign
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=jcmfa test signing" \
		-addext "extendedKeyUsage=codeSigning" \
		-keyout $(WIN_TEST)/sign/key.pem -out $(WIN_TEST)/sign/cert.pem 2>/dev/null

test-msi:
	@mkdir -p $(WIN_BIN)
	$(call win_prereq,wixl msiinfo osslsigncode openssl $(MINGW_CC))
	@[ -f $(WIN_BIN)/.skip-$@ ] || { $(MAKE) --no-print-directory $(WIN_TEST)/sign/cert.pem && \
		$(MAKE) --no-print-directory msi CERT=$(WIN_TEST)/sign/cert.pem KEY=$(WIN_TEST)/sign/key.pem && \
		WINEPREFIX=$(WINEPREFIX) WINE=$(WINE) sh packaging/windows/test_msi.sh $(MSI) $(WIN_BIN) $(WIN_TEST)/sign/cert.pem; }

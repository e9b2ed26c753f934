# jcmfa: top-level build. Targets other work adds (windows, macos, packages,
# bench) live in mk/*.mk, included at the end, so each stays in its own file.
#
#   make build        bin/jcmfa-agent and bin/pam_jcmfa.so
#   make test         the whole test suite (what CI runs; some tests need root);
#                     as root it first installs the Debian packages it lacks
#   make trial        build, start a trial daemon in ./trial, show `users`
#   make trial-stop   stop it
#   make vet          go vet for linux, windows and darwin
#   make fuzz         every fuzz target for FUZZ_SECONDS each

GO ?= go
VERSION ?= $(shell cat VERSION 2>/dev/null || echo dev)
LDFLAGS_GO = -X main.version=$(VERSION)
FUZZ_SECONDS ?= 30
TRIAL = $(CURDIR)/trial

.PHONY: all build agent pam test test-deps test-go test-c vet fuzz fuzz-go trial trial-stop clean

all: build

build: agent pam

# test-login links libpam through cgo; where its headers are missing (a
# machine with Go alone, trying the agent) the agent is built without it
# (tag nopam) and test-login says what to install. Everything else works.
PAM_HEADER ?= /usr/include/security/pam_appl.h
AGENT_TAGS = $(if $(wildcard $(PAM_HEADER)),,nopam)

agent:
	@$(if $(AGENT_TAGS),echo "note: $(PAM_HEADER) not found (libpam0g-dev): building jcmfa-agent without test-login",true)
	$(GO) build -trimpath -tags "$(AGENT_TAGS)" -ldflags "$(LDFLAGS_GO)" -o bin/jcmfa-agent ./cmd/agent

pam:
	$(MAKE) -C cmd/pam_jcmfa OUT=$(CURDIR)/bin

vet:
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

# test: unit, table, adversarial and fuzz-seed tests for every Go package
# (race detector on), the C client's unit tests, and the PAM module through
# the real libpam and a real sshd (pamtest needs root and openssh-server).
# test-deps first installs (root) or names (otherwise) the Debian packages
# the suite needs (mk/deps.sh); the rest runs in a second make so that
# AGENT_TAGS is decided after libpam0g-dev may have been installed.
test: test-deps
	@$(MAKE) --no-print-directory build vet test-c test-go

test-deps:
	@sh mk/deps.sh test

test-go:
	$(GO) test -race -count=1 ./...

test-c:
	$(MAKE) -C internal/cshim test

# Each Go fuzz target runs for FUZZ_SECONDS, then the C parser's libFuzzer.
GO_FUZZ = ./internal/ipc:FuzzParse ./internal/ipc:FuzzServerLine ./internal/store:FuzzOpenRecord \
	./internal/totp:FuzzNormalize ./internal/policy:FuzzDecide ./internal/policy:FuzzTrustedNetwork \
	./internal/printable:FuzzEscape
fuzz: fuzz-go
	$(MAKE) -C internal/cshim fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)
	$(MAKE) -C cmd/pam_jcmfa fuzz-faults FUZZ_SECONDS=$(FUZZ_SECONDS)

fuzz-go:
	@for t in $(GO_FUZZ); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$pkg $$name"; \
		GO=$(GO) sh mk/gofuzz.sh $$pkg $$name $(FUZZ_SECONDS) || exit 1; \
	done

# Recovery codes as people type them (issue 17).
GO_FUZZ += ./internal/recovery:FuzzNormalize

trial: agent
	@mkdir -p $(TRIAL)
	@if [ -S $(TRIAL)/agent.sock ] && bin/jcmfa-agent --socket $(TRIAL)/agent.sock users >/dev/null 2>&1; then \
		echo "trial daemon already running"; \
	else \
		nohup bin/jcmfa-agent run --state-dir $(TRIAL)/state --socket $(TRIAL)/agent.sock >$(TRIAL)/daemon.log 2>&1 & echo $$! > $(TRIAL)/daemon.pid; \
		for i in $$(seq 50); do [ -S $(TRIAL)/agent.sock ] && break; sleep 0.1; done; \
	fi
	bin/jcmfa-agent --socket $(TRIAL)/agent.sock users
	@echo
	@echo "Trial daemon running (log: trial/daemon.log). Talk to it with:"
	@echo "  export JCMFA_SOCKET=$(TRIAL)/agent.sock"
	@echo "  bin/jcmfa-agent --help"
	@echo "Stop it with: make trial-stop"

trial-stop:
	@if [ -f $(TRIAL)/daemon.pid ]; then kill $$(cat $(TRIAL)/daemon.pid) 2>/dev/null; rm -f $(TRIAL)/daemon.pid; echo stopped; fi

clean:
	rm -rf bin dist

-include mk/*.mk

# The two commands of README.md: `make run` trains and evaluates the default
# experiment on the built-in dataset; `make test` runs every test. Go fetches
# the modules itself on first use. make test also brings up a one-node
# Slurm (scripts/slurm/up.sh: apt, as root) for the launcher's tests.

NAME ?= demo_$(shell date +%Y%m%d_%H%M%S)
ARGS ?=

.PHONY: build run smoke test slurm bench bench-large bench-vs-torch run-vs-torch vet chromium fuzz

build:
	go build -buildvcs=auto -o bench ./cmd/bench

run: build
	./bench run --experiment_name $(NAME) $(ARGS)

smoke: build
	./bench run --experiment_name smoke_$(shell date +%Y%m%d_%H%M%S) --config_general default smoke $(ARGS)

# bench report's test opens the HTML page in Debian's chromium, installed
# here when absent and possible (apt-get as root, as in CI); elsewhere that
# one test skips, saying so.
chromium:
	@command -v chromium >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null; } || \
		echo "chromium could not be installed: the report's browser test will skip"

test: chromium slurm
	go vet ./...
	go test -count=1 -timeout 30m ./...

# A one-node Slurm on loopback, which the tests of --launcher slurm use;
# idempotent (seconds when it runs already).
slurm:
	scripts/slurm/up.sh

# Benchmarks print images/s, ns/op, seconds and peak RSS; -short leaves out
# the 120,000-embedding evaluations, which bench-large runs (minutes).
bench:
	go test -short -run '^$$' -bench . -benchtime 3x ./internal/...

bench-large:
	go test -run '^$$' -bench 'KNN|AllMetrics' -benchtime 1x -timeout 60m ./internal/eval

# bench against PyTorch (Debian's python3-torch) on the reference model,
# alternating the two; not part of the tests.
PYTHON ?= /usr/bin/python3
ROUNDS ?= 3
bench-vs-torch: build
	benchmarks/vs_torch.sh ./bench $(PYTHON) $(ROUNDS)

# The whole experiment of make run on the built-in Omniglot against the same
# protocol in PyTorch (benchmarks/torch_run.py), alternating, at 1 and 2
# threads: time per epoch, CPU seconds and peak memory (EPOCHS, ITERS, FOLDS
# 1 or 4); not part of the tests.
RUN_ROUNDS ?= 1
run-vs-torch: build
	benchmarks/run_vs_torch.sh ./bench $(PYTHON) $(RUN_ROUNDS) 1 2

vet:
	go vet ./...
	test -z "$$(gofmt -l .)"

# Each fuzz target for FUZZTIME (go test fuzzes one target at a time); the
# seed corpora alone run in make test.
FUZZTIME ?= 30s
FUZZ = internal/arrayio:FuzzReadNPY internal/arrayio:FuzzReadCSV internal/config:FuzzLoadYAML \
	internal/data:FuzzParseMAT internal/data:FuzzDecodeImage internal/record:FuzzDecodeCheckpoint

fuzz:
	@for t in $(FUZZ); do \
		echo "fuzz $$t for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) ./$${t%%:*} || exit 1; \
	done

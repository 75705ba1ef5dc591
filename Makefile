# The two commands of README.md: `make run` trains and evaluates the default
# experiment on the built-in dataset; `make test` runs every test. Go fetches
# the modules itself on first use; nothing else needs installing.

NAME ?= demo_$(shell date +%Y%m%d_%H%M%S)
ARGS ?=

.PHONY: build run smoke test bench vet

build:
	go build -o bench ./cmd/bench

run: build
	./bench run --experiment_name $(NAME) $(ARGS)

smoke: build
	./bench run --experiment_name smoke_$(shell date +%Y%m%d_%H%M%S) --config_general default smoke $(ARGS)

test:
	go vet ./...
	go test -count=1 -timeout 30m ./...

bench:
	go test -run '^$$' -bench . -benchtime 3x ./internal/...

vet:
	go vet ./...
	test -z "$$(gofmt -l .)"

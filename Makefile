# Every target uses Go 1.27.3 (fetched by the go command from the module proxy)
# with the SIMD experiment, which gives simd/archsimd on amd64 and wasm.
export GOTOOLCHAIN := go1.27.3
export GOEXPERIMENT := simd

GO       ?= go
GOROOT   := $(shell $(GO) env GOROOT)
WASMEXEC := $(GOROOT)/lib/wasm/go_js_wasm_exec
FUZZTIME ?= 10s

.PHONY: test test-native test-wasm test-generic bench deps vet

## test: everything CI runs (installs missing apt packages first)
test: deps vet test-native test-generic test-wasm

deps:
	@bash scripts/deps.sh

vet:
	$(GO) vet ./...

test-native:
	$(GO) test -count=1 -timeout 30m ./...

# The portable kernels, as every non-SIMD target builds them.
test-generic:
	GOEXPERIMENT= $(GO) test -count=1 ./kernels/...

# The wasm SIMD128 kernels, run by node through the Go toolchain's runner.
test-wasm:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec=$(WASMEXEC) ./kernels/...

## bench: kernel and forward-pass benchmarks, natively and under node (wasm)
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=3x ./kernels/... | tee bench-native.txt
	GOOS=js GOARCH=wasm $(GO) test -exec=$(WASMEXEC) -run='^$$' -bench=. -benchtime=3x ./kernels/... | tee bench-wasm.txt

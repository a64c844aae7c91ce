#!/usr/bin/env bash
# go test -exec program for the relaxedsimd wasm build (make test-wasm):
# corrects the test binary's relaxed-SIMD instructions (scripts/wasmfix),
# then runs it as Go's go_js_wasm_exec does, in node with relaxed SIMD on.
# node 20 only takes the V8 flag on its command line (NODE_OPTIONS refuses it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$1"
shift
# go test runs this with GOOS=js GOARCH=wasm; the fixer runs on this machine.
(cd "$root" && GOOS= GOARCH= go run ./scripts/wasmfix "$bin")
goroot="$(GOOS= GOARCH= go env GOROOT)"
exec node --stack-size=8192 --experimental-wasm-relaxed-simd "$goroot/lib/wasm/wasm_exec_node.js" "$bin" "$@"

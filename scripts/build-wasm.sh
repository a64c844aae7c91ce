#!/usr/bin/env bash
# Builds the two browser programs with GOOS=js GOARCH=wasm and writes the
# precompressed .br/.gz siblings of everything in OUTDIR (the server's
# `precompress` subcommand: brotli via github.com/andybalholm/brotli, gzip):
#   web/static/app.wasm     the go-app UI (wasm/app)
#   web/static/worker.wasm  the inference worker (wasm/worker), plain SIMD128
#   web/static/worker-relaxed.wasm  the same worker with -tags relaxedsimd
#                           (f32x4.relaxed_madd kernels, corrected by
#                           scripts/wasmfix); the page picks it where
#                           WebAssembly.validate accepts relaxed SIMD
# Usage: [BROTLI_QUALITY=0..11] scripts/build-wasm.sh [OUTDIR]   (default web/static, quality 11)
# Each file is built into a temporary name and renamed, so a server embedding
# web/static never picks up a half-written binary.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
export GOEXPERIMENT="${GOEXPERIMENT-simd}"
out="${1:-web/static}"
mkdir -p "$out"
build() { # build PKG NAME [relaxedsimd]
	local tmp="$out/.$2.tmp.$$"
	GOOS=js GOARCH=wasm go build -tags "${3:-}" -trimpath -ldflags="-s -w" -o "$tmp" "$1"
	if [ "${3:-}" = relaxedsimd ]; then
		go run ./scripts/wasmfix "$tmp"
	fi
	# An unchanged binary keeps its old file (and mtime), so precompress,
	# which skips siblings newer than their source, has nothing to redo.
	if cmp -s "$tmp" "$out/$2"; then
		rm -f "$tmp"
	else
		mv -f "$tmp" "$out/$2"
	fi
}
build ./wasm/app app.wasm
build ./wasm/worker worker.wasm
build ./wasm/worker worker-relaxed.wasm relaxedsimd
go run ./server precompress -brotli-quality "${BROTLI_QUALITY:-11}" "$out"

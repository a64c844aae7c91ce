#!/usr/bin/env bash
# bench-peers.sh: measure vggo against its peers and write bench/results.md.
#
# Installs the peers' npm packages from the committed lockfile, builds the
# benchmark's vggo wasm and the app's worker wasm (vggo's rows at 1, 2 and 4
# inference workers, plain and relaxed SIMD: -vggo-workers, -vggo-builds),
# writes the ONNX file with Debian's python3-torch,
# then runs bench/main.go (headless Chromium + PyTorch CPU). Extra
# arguments go to the bench command, e.g.
#   scripts/bench-peers.sh -runs 5 -native=false
# apt packages (chromium, python3-torch) come from scripts/deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}" GOEXPERIMENT="${GOEXPERIMENT:-simd}"
PYTHON="${PYTHON:-/usr/bin/python3}"

for tool in npm "$PYTHON" /usr/bin/chromium; do
  command -v "$tool" >/dev/null || { echo "bench-peers: $tool not found (scripts/deps.sh installs chromium and python3-torch; npm comes with Node.js)" >&2; exit 1; }
done

# npm packages, exactly as locked; skipped when installed since the lockfile last changed.
if ! [ bench/node_modules/.vggo-installed -nt bench/package-lock.json ]; then
  (cd bench && npm ci --no-audit --no-fund --ignore-scripts)
  touch bench/node_modules/.vggo-installed
fi

mkdir -p bench/build
GOOS=js GOARCH=wasm go build -o bench/build/vggo.wasm ./bench/vggowasm
# vggo's inference workers (worker.wasm, worker-relaxed.wasm) for the worker-pool rows.
BROTLI_QUALITY="${BROTLI_QUALITY:-4}" bash scripts/build-wasm.sh
if [ ! -s bench/build/vgg16_gap10.onnx ] || [ bench/make_onnx.py -nt bench/build/vgg16_gap10.onnx ]; then
  "$PYTHON" bench/make_onnx.py --out bench/build/vgg16_gap10.onnx
fi

go run ./bench -python "$PYTHON" -wasm-exec "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$@"

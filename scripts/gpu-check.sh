#!/usr/bin/env bash
# The GPU check of issue 16: every GPU test of train/cuda (build tag gpu)
# and the GPU benchmarks against PyTorch on the same GPU, in one command.
#
# The GPU machine has no Go and no network, so this runs in two places:
#   scripts/gpu-check.sh --build    here: static test binary into bin/gpu-check/
#   scripts/gpu-check.sh            there, in a copy of the tree that carries
#                                   bin/gpu-check/: tests, benchmarks, PyTorch;
#                                   logs into $OUT (default ./gpu-check-out)
#   scripts/gpu-check.sh --dry-run  anywhere (make test): prints the plan and
#                                   checks the script's own prerequisites
# Budget: under 8 minutes on an H200 (tests 4 min at most, benchmarks and
# PyTorch about 1 min each).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=bin/gpu-check/cuda.test
OUT=${OUT:-gpu-check-out}
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3} GOEXPERIMENT=${GOEXPERIMENT:-simd}
mode=${1:-run}

plan() {
	cat <<PLAN
gpu-check plan:
  build (here):  CGO_ENABLED=0 go test -c -tags gpu -o $BIN ./train/cuda
  on the GPU machine, logs into \$OUT:
    nvidia-smi                                     > \$OUT/nvidia-smi.txt
    $BIN -test.run GPU -test.v -test.timeout 4m    > \$OUT/tests.log
    $BIN -test.run '^\$' -test.bench GPU -test.benchtime 20x -test.timeout 2m > \$OUT/bench.log
    python3 scripts/gpu_torch_bench.py             > \$OUT/torch.log
    summary (pass/fail, img/s vs PyTorch)          > \$OUT/summary.txt
PLAN
}

case $mode in
--dry-run)
	plan
	missing=0
	for f in train/cuda/gpu_test.go train/cuda/bench_gpu_test.go scripts/gpu_torch_bench.py; do
		[[ -f $f ]] || { echo "gpu-check: missing $f"; missing=1; }
	done
	grep -q '^//go:build gpu && linux' train/cuda/gpu_test.go || { echo "gpu-check: train/cuda/gpu_test.go lost its gpu build tag"; missing=1; }
	python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' scripts/gpu_torch_bench.py || missing=1
	# The tagged tests must still compile (vet type-checks them without linking).
	go vet -tags gpu ./train/cuda || missing=1
	((missing == 0)) || exit 1
	if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
		echo "gpu-check: a GPU is here: run scripts/gpu-check.sh --build, then scripts/gpu-check.sh"
	else
		echo "gpu-check: dry run ok (no GPU here)"
	fi
	;;
--build)
	mkdir -p "$(dirname "$BIN")"
	CGO_ENABLED=0 go test -c -tags gpu -o "$BIN" ./train/cuda
	echo "built $BIN ($(du -h "$BIN" | cut -f1)); carry bin/gpu-check to the GPU machine"
	;;
run)
	[[ -x $BIN ]] || { echo "gpu-check: no $BIN: run scripts/gpu-check.sh --build on a machine with Go first" >&2; exit 1; }
	mkdir -p "$OUT"
	plan | tee "$OUT/summary.txt"
	nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || echo "nvidia-smi failed" >>"$OUT/summary.txt"
	status=0
	timeout 300 "$BIN" -test.run GPU -test.v -test.timeout 4m >"$OUT/tests.log" 2>&1 || status=1
	timeout 150 "$BIN" -test.run '^$' -test.bench GPU -test.benchtime 20x -test.timeout 2m >"$OUT/bench.log" 2>&1 || status=1
	PYTHONUNBUFFERED=1 timeout 150 python3 scripts/gpu_torch_bench.py >"$OUT/torch.log" 2>&1 || echo "PyTorch benchmark failed (see torch.log)" >>"$OUT/summary.txt"
	{
		echo "== tests"
		grep -E '^(--- |PASS|FAIL|ok|panic)|GPU:|accuracy' "$OUT/tests.log" || true
		echo "== vggo"
		grep -E '^Benchmark|^(PASS|FAIL)' "$OUT/bench.log" || true
		echo "== PyTorch"
		cat "$OUT/torch.log"
		echo "== result: $([[ $status == 0 ]] && echo PASS || echo FAIL)"
	} >>"$OUT/summary.txt"
	cat "$OUT/summary.txt"
	exit $status
	;;
*)
	echo "usage: scripts/gpu-check.sh [--dry-run|--build]" >&2
	exit 2
	;;
esac

#!/usr/bin/env bash
# The cross-dataset transfer experiment of train/EXPERIMENT.md (make
# experiment): the default model's full-width VGG16 base, trained on
# Fashion-MNIST, transferred to scikit-learn's 8x8 handwritten digits.
#
#   1. convert the digits CSV (Debian's python3-sklearn) into a fixed,
#      stratified test set (TEST_PER_CLASS per class) and a training pool;
#   2. train experiment: per arm (from scratch; feature extraction from the
#      top and from an earlier cut, -base-layers; fine-tuning the last 1, 3,
#      6 and all 13 conv layers) choose the learning rate (and the cut) on a
#      validation split at TUNE_N images per class with a seed of its own,
#      then train every arm at N images per class with each of SEEDS,
#      early stopping on validation, and score the fixed test set;
#   3. write OUT/results.tsv (every run), OUT/summary.md (mean ± sd) and
#      OUT/learning-curve.png.
#
# Environment: OUT (default experiment), N (default 5,10,30,100), SEEDS
# (default 1,2,3,4,5), ARMS (default all), TUNE_N (default 5), BUDGET
# (default 60m: no run starts after it; the summary says what did not run),
# WEIGHTS (default the default model), TEST_PER_CLASS (default 40).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3} GOEXPERIMENT=${GOEXPERIMENT:-simd}
OUT=${OUT:-experiment}
T=$OUT/bin/train
mkdir -p "$OUT/bin"
go build -o "$T" ./train
DIGITS=$OUT/digits
[ -d "$DIGITS/train" ] || "$T" convert-digits -out "$DIGITS" -test-per-class "${TEST_PER_CLASS:-40}"
start=$(date +%s)
"$T" experiment -data "$DIGITS" -weights "${WEIGHTS:-web/models/fashion-mnist-vgg16.vggo.safetensors}" -out "$OUT" \
	-n "${N:-5,10,30,100}" -seeds "${SEEDS:-1,2,3,4,5}" ${ARMS:+-arms "$ARMS"} -tune-n "${TUNE_N:-5}" -budget "${BUDGET:-60m}"
echo "wall time $(( $(date +%s) - start )) s; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$OUT/summary.md"

#!/usr/bin/env bash
# Transfer-learning experiment on Fashion-MNIST, the tutorial's comparison
# in miniature (run by `make experiment`):
#
#   1. pretrain a VGG16 (width/WIDTH_DIV, 32x32 inputs) from scratch on
#      classes 0-4 (all 30,000 training images);
#   2. on classes 5-9 with only 100 training images per class, train
#      (a) from scratch, (b) feature extraction on the pretrained base
#      (all 13 conv layers frozen), (c) fine-tuning its last FINE_TUNE conv
#      layers;
#   3. report each one's accuracy on all 5,000 test images of classes 5-9.
#
# Environment: OUT (default experiment), EPOCHS (pretraining, default 8),
# SMALL_EPOCHS (default 30), WIDTH_DIV (default 8), FINE_TUNE (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3} GOEXPERIMENT=${GOEXPERIMENT:-simd}
OUT=${OUT:-experiment}
EPOCHS=${EPOCHS:-8}
SMALL_EPOCHS=${SMALL_EPOCHS:-30}
WIDTH_DIV=${WIDTH_DIV:-8}
FINE_TUNE=${FINE_TUNE:-3}
T=$OUT/bin/train
mkdir -p "$OUT/bin"
go build -o "$T" ./train
[ -d "$OUT/fmnist/train" ] || "$T" convert-idx -out "$OUT/fmnist"
COMMON=(-data "$OUT/fmnist" -input-size 32 -width-div "$WIDTH_DIV" -head gap -cache "$OUT/cache" -seed 1)
FIRST=0_tshirt_top,1_trouser,2_pullover,3_dress,4_coat
SECOND=5_sandal,6_shirt,7_sneaker,8_bag,9_ankle_boot

"$T" fit "${COMMON[@]}" -class-names $FIRST -from-scratch -fine-tune 13 -val 0.05 -batch 64 \
	-epochs "$EPOCHS" -patience 3 -export float32 -out "$OUT/pretrain-0-4"
BASE=$OUT/pretrain-0-4/model.safetensors
SMALL=("${COMMON[@]}" -class-names $SECOND -train-per-class 100 -val 0.02 -batch 32 -epochs "$SMALL_EPOCHS" -patience 5)
"$T" fit "${SMALL[@]}" -from-scratch -fine-tune 13 -out "$OUT/a-scratch"
# Only the small head trains here, so it gets a higher rate and more epochs.
"$T" fit "${SMALL[@]}" -weights "$BASE" -fine-tune 0 -lr 0.01 -epochs 100 -out "$OUT/b-feature-extraction"
"$T" fit "${SMALL[@]}" -weights "$BASE" -fine-tune "$FINE_TUNE" -lr 0.0005 -out "$OUT/c-fine-tune-$FINE_TUNE"

echo
echo "Fashion-MNIST classes 5-9, 100 training images per class, 5,000 test images:"
for r in a-scratch b-feature-extraction "c-fine-tune-$FINE_TUNE"; do
	python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); t=h["test"]; print("  %-24s test accuracy %.4f (float32)  %.4f (%s export)  best epoch %d" % (sys.argv[2], t["accuracy"], t["exported_accuracy"], t["exported_dtype"], h["best_epoch"]))' "$OUT/$r/history.json" "$r"
done

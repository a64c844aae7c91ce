#!/usr/bin/env bash
# Installs what vggo's tests and tools need on a Debian machine, only what is
# missing, so it is cheap to run before every `make test`.
#   python3-torch, python3-torchvision, python3-h5py: generate weight fixtures
#       in the real Keras/torchvision layouts and serve as numeric oracles;
#   dataset-fashion-mnist: the real labelled images used by tests and training;
#   python3-sklearn: only for the file it ships with scikit-learn's 1,797
#       handwritten digits (digits.csv.gz), which `train convert-digits`
#       reads in Go for transfer experiments (Python never runs);
#   chromium, chromium-driver: the real browser for end-to-end tests;
#   time: GNU time, which measures the peak memory of the trainers in
#       make bench-peers.
set -euo pipefail
pkgs=(python3-torch python3-torchvision python3-h5py python3-numpy python3-pil dataset-fashion-mnist python3-sklearn chromium chromium-driver time)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

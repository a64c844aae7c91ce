#!/usr/bin/python3
"""Float64 PyTorch reference for model's preprocessing and forward pass.

Reads the committed test images under testdata/images/ and the width/16
weights testdata/vgg16_div16.pth (written by make_weights.py), and writes
testdata/reference/reference.bin (raw little-endian float64) with its index
testdata/reference/reference.json. For each case (image, mode, size):

  input  the preprocessed network input, NHWC [size][size][3]
  conv   the conv-base output (after block5's max-pool), NHWC
         [size/32][size/32][C], computed in float64 from `input`
  gap    its global average, [C]

Preprocessing is the rule documented at model.Preprocess: PIL
convert("RGB") (grey replicated to 3 channels, alpha dropped), bilinear
resize with half-pixel centres, antialiased where an axis shrinks
(F.interpolate(mode="bilinear", align_corners=False, antialias=True),
cross-checked here against an explicit numpy loop), then "caffe" (BGR minus
[103.939, 116.779, 123.68]) or "torch" (RGB/255 minus mean, over std).

Usage:  testdata/make_reference.py [--out DIR]
Needs Debian's python3-torch, python3-torchvision, python3-numpy, python3-pil;
used only to make fixtures and by model's tests as an oracle.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.models import vgg as tv_vgg

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTH_DIV = 16

# (image file under testdata/images, mode, size)
CASES = [
    ("parity_rgb.png", "caffe", 64),
    ("parity_rgb.png", "torch", 64),
    ("parity_grey.png", "torch", 32),
    ("parity_tiny.png", "caffe", 32),
    ("parity_alpha.png", "torch", 32),
    ("parity_rgb.png", "torch", 32),  # shrinks both axes, by 2.5 and 1.875
]

CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68])
TORCH_MEAN = np.array([0.485, 0.456, 0.406])
TORCH_STD = np.array([0.229, 0.224, 0.225])


def load_rgb(name):
    img = Image.open(os.path.join(HERE, "images", name)).convert("RGB")
    return np.asarray(img, dtype=np.float64)  # [H][W][3], 0..255


def resize_loop(rgb, size):
    """The resize rule written out, one axis at a time: half-pixel centres;
    enlarging, bilinear between floor(s) and the next pixel, s clamped at 0;
    shrinking by k, the triangle filter widened by k, normalised."""
    def weights(n, m):
        scale = n / m
        wt = np.zeros((m, n))
        for i in range(m):
            if scale <= 1:
                s = max(scale * (i + 0.5) - 0.5, 0.0)
                i0 = min(int(np.floor(s)), n - 1)
                i1 = i0 + 1 if i0 < n - 1 else i0
                wt[i, i0] += 1 - (s - i0)
                wt[i, i1] += s - i0
            else:
                c = scale * (i + 0.5)
                for j in range(n):
                    wt[i, j] = max(0.0, 1 - abs(j + 0.5 - c) / scale)
                wt[i] /= wt[i].sum()
        return wt
    h, w, _ = rgb.shape
    wy, wx = weights(h, size), weights(w, size)
    return np.einsum("ij,jkc,lk->ilc", wy, rgb, wx)


def resize_torch(rgb, size):
    t = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0)
    r = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return r[0].permute(1, 2, 0).numpy()


def preprocess(rgb, size, mode):
    res = resize_torch(rgb, size)
    loop = resize_loop(rgb, size)
    assert np.abs(res - loop).max() < 1e-9, np.abs(res - loop).max()
    if mode == "caffe":
        return res[:, :, ::-1] - CAFFE_MEAN_BGR
    if mode == "torch":
        return (res / 255.0 - TORCH_MEAN) / TORCH_STD
    raise ValueError(mode)


def conv_base():
    cfg = [v if v == "M" else v // WIDTH_DIV for v in tv_vgg.cfgs["D"]]
    features = tv_vgg.make_layers(cfg, batch_norm=False)
    state = torch.load(os.path.join(HERE, "vgg16_div16.pth"), map_location="cpu")
    prefix = "features."
    features.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
    return features.double().eval()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(HERE, "reference"))
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    net = conv_base()
    index = []
    offset = 0
    with open(os.path.join(args.out, "reference.bin"), "wb") as f:
        def put(case, kind, arr):
            nonlocal offset
            data = np.ascontiguousarray(arr, dtype="<f8").tobytes()
            f.write(data)
            image, mode, size = case
            index.append({"image": image, "mode": mode, "size": size, "kind": kind,
                          "shape": list(arr.shape), "offset": offset})
            offset += len(data)
        for case in CASES:
            image, mode, size = case
            x = preprocess(load_rgb(image), size, mode)
            put(case, "input", x)
            with torch.no_grad():
                out = net(torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1).unsqueeze(0))
            conv = out[0].permute(1, 2, 0).numpy()  # NHWC
            put(case, "conv", conv)
            put(case, "gap", conv.mean(axis=(0, 1)))
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump({"weights": "vgg16_div16.pth", "width_div": WIDTH_DIV, "dtype": "float64 little-endian",
                   "tensors": index}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

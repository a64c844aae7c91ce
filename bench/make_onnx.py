#!/usr/bin/env python3
"""Writes the ONNX file ONNX Runtime Web runs in the peer benchmark.

The network is the one vggo's browser benchmark runs: VGG16's 13 conv layers
(3x3, pad 1, ReLU, 2x2 max-pool after each block, full width unless
--width-div says otherwise), global average pooling and one Dense layer to
10 classes, with random weights (a seeded He-uniform draw; timing does not
depend on the values). Batch, height and width are dynamic axes, so one file
serves 224x224 batch 1 and 32x32 batch 1 and 32. The input is NCHW float32
("input"), the output the 10 logits ("logits").

Usage: /usr/bin/python3 bench/make_onnx.py --out bench/build/vgg16_gap10.onnx
Only for measurement: nothing in vggo imports PyTorch at run time.
"""
import argparse
import os

import torch
import torch.nn as nn

CONVS = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16_gap(width_div, classes):
    """VGG16 conv base + global average pool + Dense(classes)."""
    layers, cin = [], 3
    for v in CONVS:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            cout = v // width_div
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
            cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--width-div", type=int, default=1)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--opset", type=int, default=13)
    a = ap.parse_args()
    torch.manual_seed(1)
    net = vgg16_gap(a.width_div, a.classes).eval()
    x = torch.randn(1, 3, 224, 224)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with torch.no_grad():
        torch.onnx.export(net, x, tmp, input_names=["input"], output_names=["logits"], opset_version=a.opset,
                          dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}})
    os.replace(tmp, a.out)
    print("wrote %s (%d bytes, torch %s, opset %d)" % (a.out, os.path.getsize(a.out), torch.__version__, a.opset))


if __name__ == "__main__":
    main()

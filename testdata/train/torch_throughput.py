#!/usr/bin/env python3
"""PyTorch training throughput of the same network `train fit` trains, for
comparison with Go's BenchmarkTrainStep (train/nn/bench_test.go).

The network is VGG16's 13 conv layers (3x3, pad 1, ReLU, 2x2 max-pool after
each block) with every channel count except the input's divided by
--width-div, then global average pooling, Dense(hidden) ReLU, Dropout,
Dense(classes): the "gap" head. One step is forward, cross-entropy,
backward and an Adam update on one batch of random NHWC-sized inputs.

Usage:
    python3 testdata/train/torch_throughput.py --width-div 8 --size 32 --batch 32 --threads 2
    GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd go test -run=^$ -bench=TrainStep ./train/nn/

Run both on the same idle machine, one after the other; compare img/s.
Only for measurement: nothing in the project imports PyTorch at run time.
"""
import argparse
import time

import torch
import torch.nn as nn

CONVS = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16(width_div, hidden, classes, dropout):
    layers, cin = [], 3
    for v in CONVS:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            cout = v // width_div
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
            cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(cin, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                         nn.Linear(hidden, classes))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width-div", type=int, default=8)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    dev = torch.device(a.device)
    net = vgg16(a.width_div, max(8, 256 // a.width_div), a.classes, 0.2).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.randn(a.batch, 3, a.size, a.size, device=dev)
    y = torch.arange(a.batch, device=dev) % a.classes
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):  # warm-up
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    print("torch %s: VGG16/%d at %dx%d, batch %d, %d threads: %.1f img/s (%.1f ms/step)" % (
        a.device, a.width_div, a.size, a.size, a.batch, torch.get_num_threads(), a.steps * a.batch / dt, 1000 * dt / a.steps))


if __name__ == "__main__":
    main()

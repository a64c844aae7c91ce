#!/usr/bin/env python3
"""PyTorch CPU side of `make bench-peers` (driven by bench/main.go).

Runs as a long-lived child of the Go harness so that PyTorch and vggo
measurements can be interleaved: it reads one JSON command per line on stdin
and answers one JSON line on stdout. Networks are built once per
configuration and kept. Commands:

  {"op": "info"}
      torch version and thread count.
  {"op": "forward", "size": 224, "batch": 1, "width_div": 1}
      one eval-mode forward of VGG16 + GAP + Dense 10 (no autograd); "ms".
  {"op": "train_step", "size": 32, "batch": 64, "width_div": 1}
      one training step with every layer trainable (VGG16 + the trainer's
      "gap" head: GAP, Dense 256/width_div ReLU, Dropout 0.2, Dense 10;
      cross-entropy, backward, Adam lr 1e-3 as `train fit`); "ms".
  {"op": "finetune", "size": 224, "images": 320, "epochs": 10, "batch": 32,
   "width_div": 4}
      wall time ("ms") of fine-tuning the last conv layer + gap head for the
      given epochs over the same images: the frozen conv layers 1-12 run
      again every epoch (as Keras/PyTorch training loops do without a
      feature cache), under no_grad.
  {"op": "conv_pass", "size": 32, "batch": 64, "cin": 64, "cout": 64,
   "pass": "forward"}
      one pass of one 3x3 conv layer (padding 1) as a training step runs it
      ("ms"): "forward" (conv2d with bias, then ReLU), "data" (the input
      gradient) or "filter" (kernel and bias gradients), the last two
      through aten::convolution_backward, the op autograd calls.

Thread count: --threads (default 2), set once with torch.set_num_threads.

With --fit-rss DIR it serves no commands: it trains VGG16 + the gap head
from scratch, every layer, for one epoch on the images of DIR/<class>/*
(decoded with PIL, resized to --size, normalised as torchvision's ImageNet
models expect) in batches of --batch with Adam, as `train fit
-from-scratch -fine-tune 13` does, and exits; bench/main.go reads its peak
RSS (getrusage) as it reads the vggo trainer's.
Only for measurement: nothing in vggo imports PyTorch at run time.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn

CONVS = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def conv_layers(width_div, first, last):
    """nn layers of conv layers first..last (0-based, inclusive) with their ReLU and pools; returns (layers, cout)."""
    layers, cin, i = [], 3, 0
    for v in CONVS:
        if v == "M":
            if first <= i - 1 <= last:
                layers.append(nn.MaxPool2d(2))
            continue
        cout = v // width_div
        if first <= i <= last:
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
        cin = cout
        i += 1
    return layers, cin


def gap_head(cin, hidden, classes, dropout):
    if hidden == 0:
        return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, classes)]


class Bench:
    def __init__(self):
        self.nets = {}
        self.cache = {}

    def forward_net(self, wd):
        key = ("fwd", wd)
        if key not in self.nets:
            convs, c = conv_layers(wd, 0, 12)
            self.nets[key] = nn.Sequential(*convs, *gap_head(c, 0, 10, 0)).eval()
        return self.nets[key]

    def forward(self, size, batch, width_div):
        net = self.forward_net(width_div)
        x = self.tensor(("x", size, batch), (batch, 3, size, size))
        with torch.no_grad():
            t0 = time.perf_counter()
            net(x)
            return 1000 * (time.perf_counter() - t0)

    def tensor(self, key, shape):
        if key not in self.cache:
            g = torch.Generator().manual_seed(7)
            self.cache[key] = torch.randn(*shape, generator=g)
        return self.cache[key]

    def train_step(self, size, batch, width_div):
        key = ("train", size, batch, width_div)
        if key not in self.nets:
            convs, c = conv_layers(width_div, 0, 12)
            net = nn.Sequential(*convs, *gap_head(c, max(8, 256 // width_div), 10, 0.2)).train()
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            self.nets[key] = (net, opt)
        net, opt = self.nets[key]
        x = self.tensor(("x", size, batch), (batch, 3, size, size))
        y = torch.arange(batch) % 10
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return 1000 * (time.perf_counter() - t0)

    def finetune(self, size, images, epochs, batch, width_div):
        torch.manual_seed(1)
        frozen_layers, _ = conv_layers(width_div, 0, 11)
        frozen = nn.Sequential(*frozen_layers).eval()
        for p in frozen.parameters():
            p.requires_grad_(False)
        last, c = conv_layers(width_div, 12, 12)
        trainable = nn.Sequential(*last, *gap_head(c, max(8, 256 // width_div), 10, 0.2)).train()
        opt = torch.optim.Adam(trainable.parameters(), lr=1e-3)
        x = self.tensor(("ft", size, images), (images, 3, size, size))
        y = torch.arange(images) % 10
        t0 = time.perf_counter()
        for _ in range(epochs):
            perm = torch.randperm(images)
            for s in range(0, images, batch):
                idx = perm[s:s + batch]
                with torch.no_grad():
                    f = frozen(x[idx])
                opt.zero_grad(set_to_none=True)
                loss = nn.functional.cross_entropy(trainable(f), y[idx])
                loss.backward()
                opt.step()
        return 1000 * (time.perf_counter() - t0)

    def finetune_aug(self, size, images, epochs, batch, width_div, images_path, rotation):
        import numpy as np
        import torchvision.transforms as T
        torch.manual_seed(1)
        frozen_layers, _ = conv_layers(width_div, 0, 11)
        frozen = nn.Sequential(*frozen_layers).eval()
        for p in frozen.parameters():
            p.requires_grad_(False)
        last, c = conv_layers(width_div, 12, 12)
        trainable = nn.Sequential(*last, *gap_head(c, max(8, 256 // width_div), 10, 0.2)).train()
        opt = torch.optim.Adam(trainable.parameters(), lr=1e-3)
        raw = np.fromfile(images_path, dtype=np.uint8)
        if raw.size != images * size * size * 3:
            raise ValueError("%s: %d bytes, want %d images of %dx%dx3" % (images_path, raw.size, images, size, size))
        x = torch.from_numpy(raw.reshape(images, size, size, 3)).permute(0, 3, 1, 2).contiguous()
        y = torch.arange(images) % 10
        aug = T.Compose([T.RandomRotation(rotation, interpolation=T.InterpolationMode.BILINEAR), T.RandomHorizontalFlip()])
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        t0 = time.perf_counter()
        for _ in range(epochs):
            perm = torch.randperm(images)
            for s in range(0, images - batch + 1, batch):
                idx = perm[s:s + batch]
                xb = torch.stack([aug(x[i]) for i in idx.tolist()]).float().div_(255).sub_(mean).div_(std)
                with torch.no_grad():
                    f = frozen(xb)
                opt.zero_grad(set_to_none=True)
                loss = nn.functional.cross_entropy(trainable(f), y[idx])
                loss.backward()
                opt.step()
        return 1000 * (time.perf_counter() - t0)

    def conv_pass(self, size, batch, cin, cout, which):
        key = ("conv", size, batch, cin, cout)
        if key not in self.cache:
            g = torch.Generator().manual_seed(cin * 1000 + cout)
            self.cache[key] = (torch.randn(batch, cin, size, size, generator=g), torch.randn(cout, cin, 3, 3, generator=g),
                               torch.randn(cout, generator=g), torch.randn(batch, cout, size, size, generator=g))
        x, w, b, dy = self.cache[key]
        with torch.no_grad():
            t0 = time.perf_counter()
            if which == "forward":
                torch.relu_(nn.functional.conv2d(x, w, b, padding=1))
            elif which in ("data", "filter"):
                mask = [True, False, False] if which == "data" else [False, True, True]
                torch.ops.aten.convolution_backward(dy, x, w, [cout], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)
            else:
                raise ValueError("unknown pass %r" % which)
            return 1000 * (time.perf_counter() - t0)


def fit_rss(folder, size, batch):
    """One epoch of from-scratch training on folder's images (see the module doc)."""
    import os
    import numpy as np
    from PIL import Image
    classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    xs, ys = [], []
    for ci, c in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(folder, c))):
            img = Image.open(os.path.join(folder, c, f)).convert("RGB").resize((size, size), Image.BILINEAR)
            xs.append(np.asarray(img, dtype=np.uint8))
            ys.append(ci)
    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).float().div_(255)
    x = x.sub_(torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)).div_(torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
    y = torch.tensor(ys)
    convs, c = conv_layers(1, 0, 12)
    net = nn.Sequential(*convs, *gap_head(c, 256, len(classes), 0.2)).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    perm = torch.randperm(len(ys))
    for s in range(0, len(ys), batch):
        idx = perm[s:s + batch]
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
        opt.step()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fit-rss", metavar="DIR", help="train one epoch on DIR/<class>/* and exit (peak RSS measurement)")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.fit_rss:
        fit_rss(a.fit_rss, a.size, a.batch)
        return
    b = Bench()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            c = json.loads(line)
            op = c["op"]
            if op == "info":
                r = {"torch": torch.__version__, "threads": torch.get_num_threads()}
            elif op == "forward":
                r = {"ms": b.forward(c["size"], c["batch"], c.get("width_div", 1))}
            elif op == "train_step":
                r = {"ms": b.train_step(c["size"], c["batch"], c.get("width_div", 1))}
            elif op == "conv_pass":
                r = {"ms": b.conv_pass(c["size"], c["batch"], c["cin"], c["cout"], c["pass"])}
            elif op == "finetune_aug":
                r = {"ms": b.finetune_aug(c["size"], c["images"], c["epochs"], c["batch"], c.get("width_div", 1),
                                          c["images_path"], c.get("rotation", 20))}
            elif op == "finetune":
                r = {"ms": b.finetune(c["size"], c["images"], c["epochs"], c["batch"], c.get("width_div", 1))}
            else:
                r = {"error": "unknown op %r" % op}
        except Exception as e:  # report, keep serving
            r = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(r) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

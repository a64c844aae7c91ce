#!/usr/bin/python3
"""PyTorch float64 reference of one training step of train/nn's network.

The network is nn.Spec{WidthDiv: 16, InputSize: 32, Boundary: 7, Head: gap,
Hidden: [8], Classes: 3, Dropout: 0} on a batch of 8: VGG16's conv layers
block4_conv1..block5_conv3 (3x3, padding 1, ReLU; 2x2 max-pool after
block4_conv3 and block5_conv3) on 4x4x16 inputs, global average pooling,
dense 32→8 with ReLU, dense 8→3, softmax cross-entropy (mean over the
batch) against one-hot targets. At batch 8 the trainable layers run every
algorithm nn's conv op picks at these sizes: Winograd F(4x4) at 4x4 and
F(2x2) at 2x2 for the forward pass and the input gradient.

Writes testdata/trainstep/step.safetensors (float32, Go's layouts: NHWC
activations, HWIO conv kernels, [in][out] dense kernels): the input "x",
the "targets", every parameter under its nn name (e.g.
"block4_conv1/kernel", "dense1/bias"), the loss "loss" ([1]) and each
parameter's gradient under "grad/" + name. The reference runs in float64
on the float32-rounded values, so only vggo's float32 arithmetic differs.

Usage:  testdata/make_train_step.py [--out FILE]
Needs Debian's python3-torch and python3-numpy; used only to make the
fixture that train/nn's TestTrainStepMatchesPyTorch reads.
"""
import argparse
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH, SIDE, CIN, CLASSES, HIDDEN = 8, 4, 16, 3, 8
# (name, cin, cout, pool after), VGG16 at width/16 from block4_conv1.
CONVS = [
    ("block4_conv1", 16, 32, False),
    ("block4_conv2", 32, 32, False),
    ("block4_conv3", 32, 32, True),
    ("block5_conv1", 32, 32, False),
    ("block5_conv2", 32, 32, False),
    ("block5_conv3", 32, 32, True),
]
DENSES = [("dense1", 32, HIDDEN), ("dense2", HIDDEN, CLASSES)]


def rounded(a):
    """a as float32 values held in float64 (what the Go side reads)."""
    return torch.tensor(np.asarray(a, dtype=np.float32), dtype=torch.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "trainstep", "step.safetensors"))
    args = ap.parse_args()
    rng = np.random.default_rng(15)

    x = rounded(np.maximum(rng.standard_normal((BATCH, SIDE, SIDE, CIN)), 0))  # post-ReLU, NHWC
    targets = torch.zeros(BATCH, CLASSES, dtype=torch.float64)
    targets[torch.arange(BATCH), torch.arange(BATCH) % CLASSES] = 1

    params = {}  # nn name → float64 tensor in Go's layout, requires grad
    for name, cin, cout, _ in CONVS:
        params[name + "/kernel"] = rounded(rng.standard_normal((3, 3, cin, cout)) * np.sqrt(2 / (9 * cin)))
        params[name + "/bias"] = rounded(rng.standard_normal(cout) * 0.1)
    for name, fin, fout in DENSES:
        params[name + "/kernel"] = rounded(rng.standard_normal((fin, fout)) * np.sqrt(2 / fin))
        params[name + "/bias"] = rounded(rng.standard_normal(fout) * 0.1)
    for t in params.values():
        t.requires_grad_(True)

    h = x.permute(0, 3, 1, 2)  # NCHW for torch
    for name, _, _, pool in CONVS:
        w = params[name + "/kernel"].permute(3, 2, 0, 1)  # HWIO → OIHW
        h = F.relu(F.conv2d(h, w, params[name + "/bias"], padding=1))
        if pool:
            h = F.max_pool2d(h, 2)
    h = h.mean(dim=(2, 3))
    for i, (name, _, _) in enumerate(DENSES):
        h = h @ params[name + "/kernel"] + params[name + "/bias"]
        if i < len(DENSES) - 1:
            h = F.relu(h)
    loss = -(targets * F.log_softmax(h, dim=1)).sum() / targets.sum()
    loss.backward()

    tensors = [("x", x), ("targets", targets), ("loss", loss.detach().reshape(1))]
    tensors += [(n, t.detach()) for n, t in params.items()]
    tensors += [("grad/" + n, t.grad) for n, t in params.items()]
    write_safetensors(args.out, tensors)
    print(f"wrote {args.out}: loss {loss.item():.6f}")


def write_safetensors(path, tensors):
    """Writes float32 tensors in the safetensors layout (no extra module)."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        data = t.detach().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


if __name__ == "__main__":
    main()

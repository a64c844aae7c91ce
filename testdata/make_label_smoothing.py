#!/usr/bin/python3
"""PyTorch reference of label-smoothed softmax cross-entropy.

For a few (batch, classes, eps) cases, random float32 logits and labels
(seed 7), computes torch.nn.CrossEntropyLoss(label_smoothing=eps) (mean
over the batch) and its gradient with respect to the logits in float64,
and writes them to testdata/labelsmoothing/reference.json:
[{"batch", "classes", "eps", "logits", "labels", "loss", "grad"}, ...].

Usage:  testdata/make_label_smoothing.py [--out FILE]
Needs Debian's python3-torch; used only to make the fixture that
model/headtrain's TestSmoothLabelsMatchesPyTorch reads.
"""
import argparse
import json
import os

import torch

CASES = [(4, 10, 0.1), (3, 7, 0.25), (5, 3, 0.0), (2, 10, 0.9)]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "labelsmoothing", "reference.json"))
    args = ap.parse_args()
    g = torch.Generator().manual_seed(7)
    out = []
    for batch, classes, eps in CASES:
        # float32 values, so the Go side reads exactly what was used.
        logits = (torch.randn(batch, classes, generator=g) * 3).float().double()
        labels = torch.randint(0, classes, (batch,), generator=g)
        x = logits.clone().requires_grad_(True)
        loss = torch.nn.CrossEntropyLoss(label_smoothing=eps)(x, labels)
        loss.backward()
        out.append({
            "batch": batch, "classes": classes, "eps": eps,
            "logits": logits.flatten().tolist(), "labels": labels.tolist(),
            "loss": loss.item(), "grad": x.grad.flatten().tolist(),
        })
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

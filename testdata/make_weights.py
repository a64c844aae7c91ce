#!/usr/bin/python3
"""Deterministic random VGG16 weights in torchvision's layouts, for tests.

Writes, from one torch.manual_seed(0) VGG16 whose channel counts are divided
by 16 (module indices identical to torchvision.models.vgg16(): features.0,
features.2, features.5, ... see model.TorchFeatureIndex in model/arch.go):

  vgg16_div16.pth             torch.save of the features' state dict, keys
                              "features.N.weight" / "features.N.bias" (OIHW)
  vgg16_div16_full.pth        whole-model state dict: features.* and classifier.*
  vgg16_div16_module.pth      features.* with DataParallel's "module." prefix
  vgg16_div16_checkpoint.pth  a training checkpoint {"state_dict": ..., "epoch": 3}
                              whose kernels are non-contiguous views (HWIO
                              storage, OIHW strides), "module." prefixed
  vgg16_div16_f16.pth         features.* as float16 (HalfStorage)
  vgg16_div16_bf16.pth        features.* as bfloat16 (BFloat16Storage)
  vgg16_div16.safetensors     whole model, torchvision/timm names, F32
  vgg16_div16_f16.safetensors features only, F16
  vgg16_div16_bf16.safetensors features only, BF16
  vgg16_div16_hwio.bin/.json  reference dump: for each of the 13 convs in
                              order, the kernel permuted to HWIO ([3][3][Cin][Cout])
                              then the bias, raw little-endian float32; the JSON
                              index lists name, torch key, shape and byte offset.

Every bias is non-zero random, so a loader that drops biases fails its tests.
The scaled classifier is Linear(C*7*7, 64) -> Linear(64, 64) -> Linear(64, 10)
(same module indices 0, 3, 6 as torchvision; kept narrow so the committed file
stays small); the Go loaders ignore it.

  --full DIR   writes the same set at real width (torchvision's vgg16()
               layout and initialisation rules, 1000 classes) into DIR with
               prefix "vgg16" instead of "vgg16_div16". The conv base is
               drawn from seed 0 and the classifier from seed 1, so the conv
               weights do not depend on --only and the classifier is only
               made when a whole-model file is asked for. Tests call this at
               test time in a temporary directory; never committed.
  --only LIST  comma-separated subset of: pth,full,module,checkpoint,pth16,safetensors,f16,bf16,hwio

Usage:  testdata/make_weights.py [--out DIR] [--full DIR] [--only LIST]
Needs Debian's python3-torch and python3-torchvision; used only to make
fixtures, never at run time.
"""
import argparse
import json
import os
import struct
import sys
from collections import OrderedDict

import torch
from torch import nn
from torchvision.models import vgg as tv_vgg

sys.dont_write_bytecode = True  # importing vgg16_layers leaves no __pycache__ in testdata/
from vgg16_layers import CONV_NAMES, TORCH_FEATURE_INDEX  # noqa: E402

ALL_KINDS = ["pth", "full", "module", "checkpoint", "pth16", "safetensors", "f16", "bf16", "hwio"]


class VGGLayout(nn.Module):
    """torchvision's VGG module layout (features, avgpool, classifier) without
    VGG.__init__'s default initialisation of a 120M-parameter classifier."""

    def __init__(self, features, classifier):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = classifier


def build_full_width(with_classifier):
    """Real-width VGG16. The conv base comes from torch.manual_seed(0) and the
    classifier from torch.manual_seed(1), so the conv weights are the same
    whichever files (--only) are asked for, and the 120M classifier weights
    are only drawn when a file needs them."""
    torch.manual_seed(0)
    features = tv_vgg.make_layers(tv_vgg.cfgs["D"], batch_norm=False)
    with torch.no_grad():
        for m in features.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                m.bias.uniform_(-0.1, 0.1)
    classifier = nn.Sequential()
    if with_classifier:
        torch.manual_seed(1)
        skip = torch.nn.utils.skip_init
        classifier = nn.Sequential(
            skip(nn.Linear, 512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
            skip(nn.Linear, 4096, 4096), nn.ReLU(True), nn.Dropout(),
            skip(nn.Linear, 4096, 1000),
        )
        with torch.no_grad():
            for m in classifier.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    m.bias.uniform_(-0.1, 0.1)
    model = VGGLayout(features, classifier)
    model.eval()
    return model


def build_model(div, with_classifier=True):
    """Returns a deterministic VGG16 (eval mode) with channels divided by div."""
    if div == 1:
        model = build_full_width(with_classifier)
        for i in TORCH_FEATURE_INDEX:
            assert isinstance(model.features[i], nn.Conv2d), i
        return model
    torch.manual_seed(0)
    cfg = [v if v == "M" else v // div for v in tv_vgg.cfgs["D"]]
    features = tv_vgg.make_layers(cfg, batch_norm=False)
    model = tv_vgg.VGG(features, num_classes=10, init_weights=False)
    channels = cfg[-2]
    hidden = 64
    model.classifier = nn.Sequential(
        nn.Linear(channels * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, 10),
    )
    # torchvision's own initialisation rules.
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
    # Non-zero random biases everywhere (torchvision would zero them).
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.bias.uniform_(-0.1, 0.1)
    for i in TORCH_FEATURE_INDEX:
        assert isinstance(model.features[i], nn.Conv2d), i
    model.eval()
    return model


def feature_state(model):
    """State dict of the conv base, keyed "features.N.weight"/"features.N.bias"."""
    return OrderedDict((k, v) for k, v in model.state_dict().items() if k.startswith("features."))


SAFETENSORS_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def write_safetensors(path, tensors, metadata=None):
    """Writes the safetensors format by hand: u64 LE header length, JSON
    header (padded with spaces to a multiple of 8), then the raw
    little-endian tensor bytes, contiguous, in header order."""
    header = OrderedDict()
    if metadata:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        data = t.reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {
            "dtype": SAFETENSORS_DTYPE[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def write_hwio(prefix, state):
    """Reference dump: each conv's kernel as HWIO float32 then its bias."""
    index = []
    offset = 0
    with open(prefix + "_hwio.bin", "wb") as f:
        for name, idx in zip(CONV_NAMES, TORCH_FEATURE_INDEX):
            w = state["features.%d.weight" % idx]
            b = state["features.%d.bias" % idx]
            hwio = w.permute(2, 3, 1, 0).contiguous().numpy().astype("<f4")
            bias = b.contiguous().numpy().astype("<f4")
            f.write(hwio.tobytes())
            index.append({"name": name, "torch": "features.%d.weight" % idx,
                          "shape": list(hwio.shape), "offset": offset})
            offset += hwio.nbytes
            f.write(bias.tobytes())
            index.append({"name": name + "_bias", "torch": "features.%d.bias" % idx,
                          "shape": list(bias.shape), "offset": offset})
            offset += bias.nbytes
    with open(prefix + "_hwio.json", "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


def write_all(out_dir, stem, div, kinds):
    model = build_model(div, with_classifier=bool(kinds & {"full", "safetensors"}))
    full = model.state_dict()
    feats = feature_state(model)
    prefix = os.path.join(out_dir, stem)
    if "pth" in kinds:
        torch.save(feats, prefix + ".pth")
    if "full" in kinds:
        torch.save(full, prefix + "_full.pth")
    if "module" in kinds:
        torch.save(OrderedDict(("module." + k, v) for k, v in feats.items()), prefix + "_module.pth")
    if "checkpoint" in kinds:
        strided = OrderedDict()
        for k, v in feats.items():
            if v.dim() == 4:  # same values, storage in HWIO order: strides are not row-major
                v = v.permute(2, 3, 1, 0).contiguous().permute(3, 2, 0, 1)
                assert not v.is_contiguous()
            strided["module." + k] = v
        torch.save({"state_dict": strided, "epoch": 3}, prefix + "_checkpoint.pth")
    if "pth16" in kinds:
        torch.save(OrderedDict((k, v.half()) for k, v in feats.items()), prefix + "_f16.pth")
        torch.save(OrderedDict((k, v.bfloat16()) for k, v in feats.items()), prefix + "_bf16.pth")
    if "safetensors" in kinds:
        write_safetensors(prefix + ".safetensors", full, {"format": "pt"})
    if "f16" in kinds:
        write_safetensors(prefix + "_f16.safetensors",
                          OrderedDict((k, v.half()) for k, v in feats.items()))
    if "bf16" in kinds:
        write_safetensors(prefix + "_bf16.safetensors",
                          OrderedDict((k, v.bfloat16()) for k, v in feats.items()))
    if "hwio" in kinds:
        write_hwio(prefix, feats)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                   help="directory for the width/16 fixtures (default: testdata/)")
    p.add_argument("--full", metavar="DIR", help="write real-width files into DIR instead")
    p.add_argument("--only", default=",".join(ALL_KINDS), help="subset of " + ",".join(ALL_KINDS))
    args = p.parse_args()
    kinds = set(args.only.split(","))
    unknown = kinds - set(ALL_KINDS)
    if unknown:
        sys.exit("make_weights.py: unknown kinds %s" % sorted(unknown))
    if args.full:
        os.makedirs(args.full, exist_ok=True)
        write_all(args.full, "vgg16", 1, kinds)
    else:
        write_all(args.out, "vgg16_div16", 16, kinds)


if __name__ == "__main__":
    main()

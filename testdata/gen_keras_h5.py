#!/usr/bin/python3
"""Writes VGG16 conv-base weights in the three Keras .h5 layouts, for tests.

Input: a torchvision-layout state dict (keys "features.N.weight" OIHW and
"features.N.bias", N in model.TorchFeatureIndex), by default
testdata/vgg16_div16.pth written by testdata/make_weights.py. The kernels are
transposed OIHW -> HWIO, as Keras stores them, and written with h5py's
defaults (superblock v0, symbol-table groups, contiguous float32 datasets),
mimicking what each Keras version's own saving code does:

  <stem>_keras1.h5       Keras 1 layout of vgg16_weights_tf_dim_ordering_tf_
                         kernels_notop.h5: root attribute layer_names (array
                         of fixed-length byte strings: input_1, block1_conv1,
                         ..., block5_pool); one group per layer with attribute
                         weight_names (empty float64 array for input and pool
                         layers); datasets block1_conv1_W_1:0 / block1_conv1_b_1:0
  <stem>_keras1_no1.h5   the same without the "_1" (block1_conv1_W:0)
  <stem>_keras2.h5       tf.keras 2 save_weights: block1_conv1/block1_conv1/
                         kernel:0 and .../bias:0, root attributes layer_names,
                         backend (bytes) and keras_version (str)
  <stem>.weights.h5      Keras 3: layers/conv2d/vars/0 (kernel), vars/1 (bias),
                         conv2d_1 ... conv2d_12, plus input_layer and
                         max_pooling2d* groups with empty vars

  --features DIR  instead writes DIR/features.h5, a small file exercising the
                  HDF5 features the Go reader supports (and a few it refuses),
                  with DIR/features.json describing what it holds, plus
                  latest.h5 (libver="latest": refused), userblock.h5 (512-byte
                  user block), superblock1.h5 (superblock version 1),
                  ordered.h5 (a track_order=True group: refused) and small.h5 (tiny; the fuzz seed).
  --broken DIR    writes damaged variants into DIR (wrong kernel order,
                  float64, big-endian, gzip, NaN/Inf, missing layer, group,
                  dataset or Keras 3 variable, 12 convs, not Keras) and
                  whole_model.h5 (a valid tf.keras model.save() file with a
                  dense top); tests do this in a temporary directory.

  --full DIR      full-size weights: runs make_weights.py --full DIR --only
                  pth,hwio (DIR/vgg16.pth and the DIR/vgg16_hwio.bin oracle),
                  then writes the layouts into DIR with stem "vgg16".
                  Tests do this in a temporary directory; never committed.

Usage: testdata/gen_keras_h5.py [--pth FILE] [--out DIR] [--stem NAME]
                                [--layouts keras1,keras1_no1,keras2,keras3]
                                [--full DIR] [--features DIR] [--broken DIR]
Needs Debian's python3-torch, python3-h5py and python3-numpy; used only to make
fixtures, never at run time.
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import subprocess
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True  # importing vgg16_layers leaves no __pycache__ in testdata/
from vgg16_layers import CONV_NAMES, TORCH_FEATURE_INDEX  # noqa: E402

POOL_AFTER = {"block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3"}
ALL_LAYOUTS = ["keras1", "keras1_no1", "keras2", "keras3"]


def load_convs(path):
    """Returns [(name, hwio float32 array, bias float32 array)] for the 13 convs."""
    import torch  # only here: --features needs no torch (and starts faster)
    state = torch.load(path, map_location="cpu")
    convs = []
    for name, idx in zip(CONV_NAMES, TORCH_FEATURE_INDEX):
        w = state["features.%d.weight" % idx].detach().float()
        b = state["features.%d.bias" % idx].detach().float()
        hwio = w.permute(2, 3, 1, 0).contiguous().numpy().astype("<f4")
        convs.append((name, hwio, b.numpy().astype("<f4")))
    return convs


def keras_layer_names():
    """Layer order of Keras VGG16(include_top=False): input, convs, pools."""
    names = ["input_1"]
    for name in CONV_NAMES:
        names.append(name)
        if name in POOL_AFTER:
            names.append(name.split("_")[0] + "_pool")
    return names


def write_keras1(path, convs, suffix):
    """Keras 1 save_weights: flat datasets named <layer>_W<suffix>:0."""
    by_name = {name: (w, b) for name, w, b in convs}
    with h5py.File(path, "w") as f:
        names = keras_layer_names()
        f.attrs["layer_names"] = np.asarray([n.encode("utf8") for n in names])
        for name in names:
            g = f.create_group(name)
            if name not in by_name:
                g.attrs["weight_names"] = np.asarray([])  # Keras 1 writes [] -> float64 (0,)
                continue
            w, b = by_name[name]
            wn = [name + "_W" + suffix + ":0", name + "_b" + suffix + ":0"]
            g.attrs["weight_names"] = np.asarray([n.encode("utf8") for n in wn])
            g.create_dataset(wn[0], data=w)
            g.create_dataset(wn[1], data=b)


def write_keras2(path, convs):
    """tf.keras 2 save_weights (legacy h5): nested <layer>/<layer>/kernel:0."""
    by_name = {name: (w, b) for name, w, b in convs}
    with h5py.File(path, "w") as f:
        names = keras_layer_names()
        names[0] = "input_1"
        f.attrs["layer_names"] = np.asarray([n.encode("utf8") for n in names])
        f.attrs["backend"] = "tensorflow".encode("utf8")  # bytes
        f.attrs["keras_version"] = "2.12.0"  # str: variable-length UTF-8
        for name in names:
            g = f.create_group(name)
            if name not in by_name:
                g.attrs["weight_names"] = np.asarray([], dtype="S1")
                continue
            w, b = by_name[name]
            wn = [name + "/kernel:0", name + "/bias:0"]
            g.attrs["weight_names"] = np.asarray([n.encode("utf8") for n in wn])
            g.create_dataset(wn[0], data=w)
            g.create_dataset(wn[1], data=b)


def write_keras3(path, convs):
    """Keras 3 .weights.h5: layers/<class name>[_N]/vars/<index>."""
    with h5py.File(path, "w") as f:
        layers = f.create_group("layers")
        layers.create_group("input_layer").create_group("vars")
        n_conv = 0
        n_pool = 0
        for name, w, b in convs:
            key = "conv2d" if n_conv == 0 else "conv2d_%d" % n_conv
            n_conv += 1
            v = layers.create_group(key).create_group("vars")
            v.create_dataset("0", data=w)
            v.create_dataset("1", data=b)
            if name in POOL_AFTER:
                key = "max_pooling2d" if n_pool == 0 else "max_pooling2d_%d" % n_pool
                n_pool += 1
                layers.create_group(key).create_group("vars")
        f.create_group("vars")


def write_features(out_dir):
    """A small HDF5 file exercising the reader, and a JSON list of its contents."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "features.h5")
    rng = np.random.default_rng(0)
    expect = {"datasets": {}, "attrs": {}, "refused": {}}
    with h5py.File(path, "w") as f:
        f.attrs["fixed_strings"] = np.asarray([b"alpha", b"be", b"gamma_long"])
        f.attrs["vlen_str"] = "h\u00e9llo"
        f.attrs["vlen_bytes"] = b"bytes"
        f.attrs["vlen_list"] = [b"one", b"two", b"three"]
        f.attrs["empty"] = np.asarray([])
        f.attrs["int_scalar"] = np.int64(7)
        expect["attrs"] = {"fixed_strings": ["alpha", "be", "gamma_long"], "vlen_str": ["h\u00e9llo"],
                           "vlen_bytes": ["bytes"], "vlen_list": ["one", "two", "three"], "empty": []}
        a = rng.standard_normal((3, 4, 5)).astype("<f4")
        f.create_dataset("a/b/c/tensor", data=a)
        expect["datasets"]["a/b/c/tensor"] = {"shape": list(a.shape), "values": a.ravel().tolist()}
        s = np.float32(1.5)
        f.create_dataset("scalar", data=s)
        expect["datasets"]["scalar"] = {"shape": [], "values": [1.5]}
        c = rng.standard_normal(10).astype("<f4")
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        dcpl.set_obj_track_times(False)  # reproducible bytes, as h5py's default
        space = h5py.h5s.create_simple(c.shape)
        dset = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
        dset.write(h5py.h5s.ALL, h5py.h5s.ALL, c)
        expect["datasets"]["compact"] = {"shape": [10], "values": c.tolist()}
        f.create_dataset("empty", shape=(0, 3), dtype="<f4")
        expect["datasets"]["empty"] = {"shape": [0, 3], "values": []}
        # A group with enough members for a multi-level B-tree.
        many = f.create_group("many")
        for i in range(300):
            many.create_dataset("m%03d" % i, data=np.asarray([i], dtype="<f4"))
        expect["many"] = 300
        # Things the reader must refuse with a clear error.
        f.create_dataset("chunked", data=np.ones((8, 8), "<f4"), chunks=(4, 4))
        f.create_dataset("gzip", data=np.ones((8, 8), "<f4"), compression="gzip")
        f.create_dataset("bigendian", data=np.ones(4, ">f4"))
        f.create_dataset("float64", data=np.ones(4, "<f8"))
        f.create_dataset("int32", data=np.ones(4, "<i4"))
        expect["refused"] = {"chunked": "chunked", "gzip": "chunked", "bigendian": "big-endian",
                             "float64": "float64", "int32": "int32"}
    with open(os.path.join(out_dir, "features.json"), "w") as f:
        json.dump(expect, f, indent=1)
        f.write("\n")
    # Same data, newest file format: superblock v3, v2 object headers (refused).
    # Object times are switched off so the file's bytes are reproducible.
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fid = h5py.h5f.create(os.path.join(out_dir, "latest.h5").encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
    with h5py.File(fid) as f:
        f.create_dataset("x", data=np.ones(4, "<f4"), track_times=False)
    # A small file touching every supported structure: the fuzz seed.
    with h5py.File(os.path.join(out_dir, "small.h5"), "w") as f:
        f.attrs["layer_names"] = np.asarray([b"x", b"yy"])
        f.attrs["version"] = "3"
        g = f.create_group("g")
        g.attrs["weight_names"] = np.asarray([b"g/d:0"])
        g.create_dataset("d:0", data=np.arange(4, dtype="<f4").reshape(2, 2))
        for i in range(10):
            f.create_group("h/%d" % i)
    # Superblock version 1: written when the chunk B-tree K is not the default.
    # h5py does not wrap H5Pset_istore_k: call the HDF5 library h5py uses.
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    libhdf5 = ctypes.CDLL(ctypes.util.find_library("hdf5_serial") or "libhdf5.so")
    libhdf5.H5Pset_istore_k(ctypes.c_int64(fcpl.id), ctypes.c_uint(64))
    fid = h5py.h5f.create(os.path.join(out_dir, "superblock1.h5").encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl)
    with h5py.File(fid) as f:
        f.create_dataset("x", data=np.arange(4, dtype="<f4"))
    # Superblock 0, but a group tracking creation order gets a version 2
    # object header and link messages (refused).
    # (h5py's track_order=True, spelled out to switch off timestamps.)
    with h5py.File(os.path.join(out_dir, "ordered.h5"), "w") as f:
        gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
        gcpl.set_link_creation_order(h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED)
        gcpl.set_obj_track_times(False)
        h5py.h5g.create(f.id, b"g", gcpl=gcpl)
        f["g"].create_dataset("x", data=np.ones(2, "<f4"))
    # A 512-byte user block before the superblock (allowed by the format).
    with h5py.File(os.path.join(out_dir, "userblock.h5"), "w", userblock_size=512) as f:
        f.create_dataset("x", data=np.arange(4, dtype="<f4"))


def replace(f, path, data, **kwargs):
    """Replaces dataset path in the open file f with data."""
    del f[path]
    f.create_dataset(path, data=data, **kwargs)


def write_broken(out_dir, convs):
    """Damaged variants of the fixtures, each with one known problem; the Go
    tests check the error each one gives. Written at test time, never
    committed."""
    os.makedirs(out_dir, exist_ok=True)
    by_name = {name: (w, b) for name, w, b in convs}

    def keras1(name):
        path = os.path.join(out_dir, name)
        write_keras1(path, convs, "_1")
        return h5py.File(path, "r+")

    with keras1("oihw.h5") as f:  # Theano-style kernel order
        w = by_name["block3_conv1"][0]
        replace(f, "block3_conv1/block3_conv1_W_1:0", np.ascontiguousarray(w.transpose(3, 2, 0, 1)))
    with keras1("float64.h5") as f:
        replace(f, "block1_conv1/block1_conv1_W_1:0", by_name["block1_conv1"][0].astype("<f8"))
    with keras1("bigendian.h5") as f:
        replace(f, "block2_conv2/block2_conv2_b_1:0", by_name["block2_conv2"][1].astype(">f4"))
    with keras1("gzip.h5") as f:
        replace(f, "block1_conv2/block1_conv2_W_1:0", by_name["block1_conv2"][0], compression="gzip")
    with keras1("nan.h5") as f:
        w = by_name["block3_conv2"][0].copy()
        w.reshape(-1)[[0, 7, 99]] = np.nan
        replace(f, "block3_conv2/block3_conv2_W_1:0", w)
        b = by_name["block5_conv3"][1].copy()
        b[1] = np.inf
        replace(f, "block5_conv3/block5_conv3_b_1:0", b)
    with keras1("missing_layer.h5") as f:
        del f["block4_conv2"]
        names = [n for n in f.attrs["layer_names"] if n != b"block4_conv2"]
        f.attrs["layer_names"] = np.asarray(names)
    with keras1("missing_group.h5") as f:
        del f["block4_conv3"]
    path = os.path.join(out_dir, "missing_bias.h5")
    write_keras2(path, convs)
    with h5py.File(path, "r+") as f:
        del f["block2_conv1/block2_conv1/bias:0"]
    path = os.path.join(out_dir, "keras3_12.h5")
    write_keras3(path, convs[:12])
    path = os.path.join(out_dir, "keras3_novar.h5")
    write_keras3(path, convs)
    with h5py.File(path, "r+") as f:
        del f["layers/conv2d_5/vars/1"]
    # Not broken: a tf.keras 2 model.save() file (weights under
    # model_weights, with a dense top that the loader ignores).
    with h5py.File(os.path.join(out_dir, "whole_model.h5"), "w") as f:
        f.attrs["model_config"] = '{"class_name": "Functional"}'
        f.attrs["keras_version"] = "2.12.0"
        f.attrs["backend"] = "tensorflow"
        g = f.create_group("model_weights")
        names = keras_layer_names() + ["flatten", "fc1"]
        g.attrs["layer_names"] = np.asarray([n.encode("utf8") for n in names])
        for name in names:
            lg = g.create_group(name)
            if name == "fc1":
                wn = ["fc1/kernel:0", "fc1/bias:0"]
                lg.attrs["weight_names"] = np.asarray([n.encode("utf8") for n in wn])
                lg.create_dataset(wn[0], data=np.ones((2, 3), "<f4"))
                lg.create_dataset(wn[1], data=np.ones(3, "<f4"))
            elif name in by_name:
                w, b = by_name[name]
                wn = [name + "/kernel:0", name + "/bias:0"]
                lg.attrs["weight_names"] = np.asarray([n.encode("utf8") for n in wn])
                lg.create_dataset(wn[0], data=w)
                lg.create_dataset(wn[1], data=b)
            else:
                lg.attrs["weight_names"] = np.asarray([], dtype="S1")
    with h5py.File(os.path.join(out_dir, "not_keras.h5"), "w") as f:
        f.create_dataset("weights", data=np.ones(4, "<f4"))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pth", default=os.path.join(here, "vgg16_div16.pth"))
    p.add_argument("--out", default=os.path.join(here, "keras"))
    p.add_argument("--stem", default="vgg16_div16")
    p.add_argument("--layouts", default=",".join(ALL_LAYOUTS))
    p.add_argument("--features", metavar="DIR", help="write the HDF5 feature fixture into DIR instead")
    p.add_argument("--broken", metavar="DIR", help="write damaged variants into DIR instead (for tests)")
    p.add_argument("--full", metavar="DIR",
                   help="full-size VGG16: run make_weights.py --full DIR --only pth,hwio, then "
                        "write the layouts from DIR/vgg16.pth into DIR with stem vgg16")
    args = p.parse_args()
    if args.full:
        subprocess.run([sys.executable, os.path.join(here, "make_weights.py"), "--full", args.full,
                        "--only", "pth,hwio"], check=True)
        args.pth = os.path.join(args.full, "vgg16.pth")
        args.out = args.full
        args.stem = "vgg16"
    if args.features:
        write_features(args.features)
        return
    layouts = args.layouts.split(",")
    unknown = set(layouts) - set(ALL_LAYOUTS)
    if unknown:
        sys.exit("gen_keras_h5.py: unknown layouts %s" % sorted(unknown))
    convs = load_convs(args.pth)
    if args.broken:
        write_broken(args.broken, convs)
        return
    os.makedirs(args.out, exist_ok=True)
    prefix = os.path.join(args.out, args.stem)
    if "keras1" in layouts:
        write_keras1(prefix + "_keras1.h5", convs, "_1")
    if "keras1_no1" in layouts:
        write_keras1(prefix + "_keras1_no1.h5", convs, "")
    if "keras2" in layouts:
        write_keras2(prefix + "_keras2.h5", convs)
    if "keras3" in layouts:
        write_keras3(prefix + ".weights.h5", convs)


if __name__ == "__main__":
    main()

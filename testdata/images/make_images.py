#!/usr/bin/python3
"""Writes the small test images under testdata/images/ (committed).

Deterministic (numpy seed 0; PIL 9.4's encoders). Used by model's Go tests:

  parity_rgb.png, parity_grey.png, parity_tiny.png
      lossless inputs for the preprocessing/forward parity fixtures that
      testdata/make_reference.py computes (80x60 RGB downscaled, 37x50 grey,
      20x13 RGB upscaled), so Go and PyTorch start from identical pixels.
  parity_alpha.png
      45x40 RGBA with random alpha: alpha is dropped, colour kept.
  upright.png
      64x32, four flat quadrants: top-left red, top-right green,
      bottom-left blue, bottom-right yellow. The reference for orient_*.
  orient_N.jpg (N = 1..8)
      upright.png stored so that EXIF orientation N turns it upright again
      (the inverse of PIL's ImageOps.exif_transpose), EXIF little-endian.
  orient_6_be.jpg
      orientation 6 with a hand-written big-endian ("MM") EXIF block.
  formats.png and formats.gif/.webp/.bmp/.tiff
      the same 40x30 picture with 6 colours, in every lossless format.
  grey.jpg      a greyscale JPEG (decodes to one channel).
  corrupt.jpg   the first half of a valid JPEG.
  not_an_image.txt
  huge_header.png  a valid PNG header claiming 20000x20000 (400 MP), no pixels.
  huge_header.jpg  a JPEG SOF0 header claiming 12000x9000 (108 MP), no pixels.
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

OUT = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(OUT, name)


def parity_images(rng):
    h, w = 60, 80
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([
        (x * 255.0 / (w - 1)),
        (y * 255.0 / (h - 1)),
        128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0),
    ], axis=-1)
    rgb += rng.uniform(-20, 20, size=rgb.shape)
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB").save(path("parity_rgb.png"))
    grey = rng.integers(0, 256, size=(50, 37), dtype=np.uint8)
    Image.fromarray(grey, "L").save(path("parity_grey.png"))
    tiny = rng.integers(0, 256, size=(13, 20, 3), dtype=np.uint8)
    Image.fromarray(tiny, "RGB").save(path("parity_tiny.png"))


def parity_alpha_image():
    """RGBA with varying alpha (own seed, so the other images stay as they
    were): preprocessing must drop alpha and keep the stored colour, as
    PIL's convert("RGB") does."""
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, size=(40, 45, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(path("parity_alpha.png"))


QUADRANTS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]

# Stored image = INVERSE[N](upright); exif_transpose applies the forward op.
INVERSE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,   # exif_transpose rotates 270 (CW 90)
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def upright():
    a = np.zeros((32, 64, 3), dtype=np.uint8)
    a[:16, :32] = QUADRANTS[0]
    a[:16, 32:] = QUADRANTS[1]
    a[16:, :32] = QUADRANTS[2]
    a[16:, 32:] = QUADRANTS[3]
    return Image.fromarray(a, "RGB")


def be_exif_orientation(o):
    """A minimal big-endian EXIF block: IFD0 with one entry, Orientation."""
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, o, 0) + struct.pack(">I", 0)
    return b"Exif\x00\x00" + b"MM\x00*" + struct.pack(">I", 8) + ifd


def orientation_images():
    up = upright()
    up.save(path("upright.png"))
    for o, op in INVERSE.items():
        stored = up if op is None else up.transpose(op)
        exif = Image.Exif()
        exif[0x0112] = o
        name = path("orient_%d.jpg" % o)
        stored.save(name, "JPEG", quality=95, subsampling=0, exif=exif.tobytes())
        back = np.asarray(ImageOps.exif_transpose(Image.open(name)).convert("RGB"), np.int32)
        assert back.shape == (32, 64, 3), (o, back.shape)
        for (y, x), want in zip([(8, 16), (8, 48), (24, 16), (24, 48)], QUADRANTS):
            assert np.abs(back[y, x] - want).max() < 8, (o, y, x, back[y, x])
    up.transpose(INVERSE[6]).save(path("orient_6_be.jpg"), "JPEG", quality=95, subsampling=0,
                                  exif=be_exif_orientation(6))
    assert ImageOps.exif_transpose(Image.open(path("orient_6_be.jpg"))).size == up.size


def format_images(rng):
    palette = np.array([(0, 0, 0), (255, 255, 255), (200, 30, 30), (30, 200, 30), (30, 30, 200), (250, 200, 0)], np.uint8)
    idx = rng.integers(0, len(palette), size=(30, 40))
    img = Image.fromarray(palette[idx], "RGB")
    img.save(path("formats.png"))
    img.save(path("formats.gif"))
    img.save(path("formats.webp"), lossless=True)
    img.save(path("formats.bmp"))
    img.save(path("formats.tiff"), compression="tiff_deflate")


def broken_images(rng):
    grey = Image.fromarray(rng.integers(0, 256, size=(24, 40), dtype=np.uint8), "L")
    grey.save(path("grey.jpg"), "JPEG", quality=90)
    with open(path("grey.jpg"), "rb") as f:
        data = f.read()
    with open(path("corrupt.jpg"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(path("not_an_image.txt"), "w") as f:
        f.write("This is a text file, not a picture.\n")
    # PNG: signature, IHDR 20000x20000 8-bit RGB, IEND. No IDAT.
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    with open(path("huge_header.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    # JPEG: SOI, SOF0 (baseline) 12000 wide x 9000 high, 3 components, the
    # SOS header (a JPEG without JFIF APP0 is only configured at SOS), EOI.
    sof = struct.pack(">BHHB", 8, 9000, 12000, 3) + bytes([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
    sos = bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])
    with open(path("huge_header.jpg"), "wb") as f:
        f.write(b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", 2 + len(sof)) + sof +
                b"\xff\xda" + struct.pack(">H", 2 + len(sos)) + sos + b"\xff\xd9")


def main():
    rng = np.random.default_rng(0)
    parity_images(rng)
    parity_alpha_image()
    orientation_images()
    format_images(rng)
    broken_images(rng)


if __name__ == "__main__":
    main()

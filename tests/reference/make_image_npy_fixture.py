#!/usr/bin/env python3
"""Writes the fixtures read by tests/test_npy.cpp and tests/test_image_io.cpp, made by NumPy, PIL
and PyTorch (Debian's python3-numpy, python3-pil, python3-torch), and prints the resize values the
C++ test hard-codes.

  fixtures/npy/     files written by numpy.save: read tests, and the malformed cases the reader rejects
  fixtures/image/   PNGs with alpha and grey, a JPEG, and PIL's own decoding of that JPEG as .npy

Run from the repository root:  /usr/bin/python3 tests/reference/make_image_npy_fixture.py
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

NPY = "tests/fixtures/npy"
IMG = "tests/fixtures/image"
os.makedirs(NPY, exist_ok=True)
os.makedirs(IMG, exist_ok=True)

# --- .npy: values repeated in test_npy.cpp ---------------------------------------------------------
np.save(f"{NPY}/f64_2x3.npy", np.array([[1.5, -2.25, 3.0], [4.0, 5.0, 6.125]], dtype="<f8"))
np.save(f"{NPY}/f32_7.npy", (np.arange(7, dtype="<f4") * 0.5 - 1.0))
np.save(f"{NPY}/f32_scalar.npy", np.array(2.5, dtype="<f4"))
np.save(f"{NPY}/fortran_f8.npy", np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))
np.save(f"{NPY}/int64.npy", np.arange(4, dtype="<i8"))
np.save(f"{NPY}/big_endian_f4.npy", np.arange(4, dtype=">f4"))

# --- images: pixel formulas repeated in test_image_io.cpp -------------------------------------------
rgba = np.zeros((3, 5, 4), dtype=np.uint8)  # (H, W, RGBA)
for y in range(3):
    for x in range(5):
        rgba[y, x] = [(40 * x + 7) % 256, (60 * y + 11) % 256, (13 * x * y + 90) % 256, (64 * x + 30 * y) % 256]
Image.fromarray(rgba, "RGBA").save(f"{IMG}/rgba_5x3.png")
gray = np.array([[(17 * x + 29 * y) % 256 for x in range(7)] for y in range(5)], dtype=np.uint8)
Image.fromarray(gray, "L").save(f"{IMG}/gray_7x5.png")
la = np.stack([gray, np.full_like(gray, 128)], axis=-1)
Image.fromarray(la, "LA").save(f"{IMG}/gray_alpha_7x5.png")
grad = np.zeros((21, 33, 3), dtype=np.uint8)
for y in range(21):
    for x in range(33):
        grad[y, x] = [int(255 * x / 32), int(255 * y / 20), int(128 + 100 * math.sin(0.3 * x + 0.2 * y))]
Image.fromarray(grad, "RGB").save(f"{IMG}/gradient_33x21_q95.jpg", quality=95)
decoded = np.asarray(Image.open(f"{IMG}/gradient_33x21_q95.jpg").convert("RGB"), dtype=np.float32) / 255.0
np.save(f"{IMG}/gradient_33x21_q95_pil.npy", np.ascontiguousarray(decoded.transpose(2, 0, 1)))

# --- resize: torch's antialiased bilinear on a 5x7 pattern --------------------------------------------
x = torch.tensor([[math.sin(i * 1.3 + j * 0.7) + ((i * j) % 5) * 0.1 for j in range(7)] for i in range(5)],
                 dtype=torch.float64).reshape(1, 1, 5, 7)
for size in [(3, 4), (8, 3)]:
    y = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0]
    print(size, ", ".join("%.9f" % v for v in y.flatten().tolist()))

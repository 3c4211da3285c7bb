"""Writes tests/fixtures/fuzz/*: small valid images in the encodings stb decodes differently (progressive
and greyscale JPEG, 16-bit, palette, interlaced and transparent PNG, 8- and 32-bit BMP, raw and RLE
TGA, GIF), the seeds the reader fuzzer mutates. Run from the repository root with Debian's python3-pil:
    /usr/bin/python3 tests/fuzz/make_image_seeds.py
"""
from pathlib import Path

from PIL import Image

out = Path(__file__).resolve().parent.parent / "fixtures" / "fuzz"
out.mkdir(parents=True, exist_ok=True)

# A 13x9 picture with edges and a gradient, so that every format has something to encode.
rgb = Image.new("RGB", (13, 9))
rgb.putdata([((x * 19) % 256, (y * 28) % 256, ((x + y) * 11) % 256) for y in range(9) for x in range(13)])
rgba = rgb.copy()
rgba.putalpha(Image.new("L", (13, 9), 128))
grey = rgb.convert("L")
palette = rgb.convert("P", palette=Image.ADAPTIVE, colors=8)

rgb.save(out / "progressive.jpg", progressive=True, quality=80)
grey.save(out / "grey.jpg", quality=80)
rgb.save(out / "subsampled.jpg", quality=60, subsampling=2)
Image.frombytes("I;16", (13, 9), bytes(range(234))).save(out / "deep16.png")
palette.save(out / "palette.png", transparency=0)
rgba.save(out / "interlaced.png", interlace=1)
grey.save(out / "grey.bmp")
palette.save(out / "palette.bmp")
rgba.save(out / "rgba.bmp")
rgb.save(out / "rle.tga", compression="tga_rle")
grey.save(out / "grey.tga")
palette.save(out / "palette.gif")
for path in sorted(out.iterdir()):
    print(f"{path.name}: {path.stat().st_size} bytes")

"""Benchmark: what re-encoding an uploaded picture costs and saves, on a 4000×3000 phone-like JPEG
(quality 95, sensor-like noise over smooth shapes, EXIF with orientation, GPS and camera serial).

    .venv/bin/python bench/pictures.py [--width 4000] [--height 3000] [--runs 5] [--versions 5]

Prints the uploaded, stored and thumbnail bytes, the picture bytes the listing history loads for a product
with --versions pictured versions (before: each <img> was the whole upload; after: its thumbnail), and the
time of the checks alone (`check_image`, what an upload paid before) against checks + re-encoding
(`clean_image`), median of --runs. Exits 1 if the stored file still has EXIF or is not upright.
No database is used.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from PIL import ExifTags, Image, ImageDraw, ImageFilter  # noqa: E402

from opsdesk.images import check_image, clean_image  # noqa: E402
from stores.forms import ListingVersionForm  # noqa: E402

LIMITS = {"formats": ListingVersionForm.FORMATS, "max_bytes": ListingVersionForm.MAX_PICTURE_BYTES,
          "max_side": ListingVersionForm.MAX_PICTURE_SIDE, "unreadable": "unreadable"}


def phone_photo(width: int, height: int) -> bytes:
    """Smooth shapes plus noise, saved as a phone does (quality 95, EXIF): bytes close to a real 12 MP photo."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(12):
        x, y = (i * 331) % width, (i * 557) % height
        draw.ellipse((x, y, x + width // 4, y + height // 4), fill=((i * 40) % 256, 120, (i * 90) % 256))
    image = image.filter(ImageFilter.GaussianBlur(3))
    noise = Image.effect_noise((width, height), 12).convert("RGB")
    image = Image.blend(image, noise, 0.2)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.Base.BodySerialNumber] = "SN-4471"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({ExifTags.GPS.GPSLatitudeRef: "N",
                                                ExifTags.GPS.GPSLatitude: (48.0, 51.0, 29.0)})
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, exif=exif)
    return buffer.getvalue()


def timed(function, raw: bytes, runs: int) -> float:
    times = []
    for _ in range(runs):
        upload = SimpleUploadedFile("IMG_0001.JPG", raw)
        start = time.perf_counter()
        function(upload, **LIMITS)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--versions", type=int, default=5)
    args = parser.parse_args()

    raw = phone_photo(args.width, args.height)
    clean = clean_image(SimpleUploadedFile("IMG_0001.JPG", raw), **LIMITS)
    with Image.open(io.BytesIO(clean.content)) as stored, Image.open(io.BytesIO(clean.thumbnail)) as thumb:
        ok = not stored.getexif() and stored.size == (args.height, args.width)
        thumb_size = thumb.size
    check_s, clean_s = timed(check_image, raw, args.runs), timed(clean_image, raw, args.runs)

    kb = lambda n: f"{n / 1024:,.0f} KB"  # noqa: E731
    print(f"## pictures\n\nA {args.width}×{args.height} phone-like JPEG (quality 95, EXIF orientation 6 + GPS + "
          f"serial), median of {args.runs} runs.\n")
    print("| | bytes |\n| --- | ---: |")
    print(f"| uploaded | {kb(len(raw))} |\n| stored (re-encoded, quality 85, no EXIF) | {kb(len(clean.content))} |")
    print(f"| thumbnail ({thumb_size[0]}×{thumb_size[1]}) | {kb(len(clean.thumbnail))} |")
    print(f"| listing history pictures, {args.versions} versions, before (whole uploads) | "
          f"{kb(args.versions * len(raw))} |")
    print(f"| listing history pictures, {args.versions} versions, after (thumbnails) | "
          f"{kb(args.versions * len(clean.thumbnail))} |\n")
    print(f"- upload checks alone (`check_image`, before): **{check_s * 1000:,.0f} ms**")
    print(f"- checks + re-encode + thumbnail (`clean_image`, after): **{clean_s * 1000:,.0f} ms** "
          f"(adds {(clean_s - check_s) * 1000:,.0f} ms to the upload)")
    print(f"- stored copy upright and without EXIF: **{'yes' if ok else 'NO'}**")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

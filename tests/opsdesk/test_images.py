"""Re-encoded uploads keep what changes how a picture looks and nothing else."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms

from opsdesk.images import clean_image, reencode, thumbnail_path

LIMITS = {"formats": ("JPEG", "PNG", "WEBP", "GIF"), "max_bytes": 5 * 2**20, "max_side": 6000,
          "unreadable": "This file is not a picture we can read."}


def upload(image: Image.Image, fmt: str, **options) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return SimpleUploadedFile(f"x.{fmt.lower()}", buffer.getvalue())


def test_an_animated_gif_keeps_its_frames_and_timing_but_not_its_comment():
    frames = [Image.new("RGB", (600, 100), colour) for colour in ("red", "green", "blue")]
    gif = upload(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[50, 60, 70], loop=0,
                 comment=b"taken at home")
    clean = reencode(gif)
    with Image.open(io.BytesIO(clean.content)) as image:
        assert (image.format, image.n_frames, clean.extension) == ("GIF", 3, "gif")
        assert "comment" not in image.info
        seen = []
        for i in range(3):
            image.seek(i)
            seen.append((image.info["duration"], image.convert("RGB").getpixel((5, 5))))
    assert seen == [(50, (255, 0, 0)), (60, (0, 128, 0)), (70, (0, 0, 255))]
    with Image.open(io.BytesIO(clean.thumbnail)) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("PNG", (480, 80))  # the first frame
    assert thumbnail_path("listings/1/2/ab.gif") == "listings/1/2/ab.thumb.png"


def test_the_colour_profile_and_transparency_are_kept():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with Image.open(io.BytesIO(reencode(upload(Image.new("RGB", (50, 50)), "JPEG", icc_profile=srgb)).content)) as jpg:
        assert jpg.info.get("icc_profile") == srgb
    clear = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    with Image.open(io.BytesIO(reencode(upload(clear, "PNG")).content)) as png:
        assert png.mode == "RGBA" and png.getpixel((0, 0))[3] == 0


def test_a_truncated_jpeg_is_refused_though_its_header_reads():
    buffer = io.BytesIO()
    Image.effect_noise((300, 200), 40).convert("RGB").save(buffer, format="JPEG")
    half = SimpleUploadedFile("half.jpg", buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ValidationError, match="not a picture we can read"):
        clean_image(half, **LIMITS)

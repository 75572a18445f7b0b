"""Reading images of any common kind, and the reasons given for files that are not usable images."""

import numpy as np
import pytest
from PIL import Image

from face_emotion.data.images import ImageRejected, read_image, to_gray_face
from tests.helpers import real_faces


def test_real_fer_face_reads_as_48x48_gray():
    image = read_image(real_faces("test", "happy", 1)[0])
    assert image.mode == "L" and image.size == (48, 48)
    assert to_gray_face(image).shape == (48, 48)


def test_sixteen_bit_png_is_scaled_to_8_bit(tmp_path):
    ramp = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    image = read_image(tmp_path / "deep.png")
    pixels = np.asarray(image)
    assert image.mode == "L" and pixels.min() == 0 and pixels.max() == 255


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    Image.new("CMYK", (80, 60), (0, 128, 128, 0)).save(tmp_path / "print.jpg")
    assert read_image(tmp_path / "print.jpg").mode == "RGB"


def test_exif_rotation_is_applied(tmp_path):
    image = Image.new("RGB", (80, 40), "white")
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    image.save(tmp_path / "rotated.jpg", exif=exif)
    assert read_image(tmp_path / "rotated.jpg").size == (40, 80)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty file"), (b"plain text, not pixels\n", "not an image"), (None, "unreadable image")],
)
def test_bad_files_are_rejected_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "bad.jpg"
    if content is None:
        good = real_faces("test", "happy", 1)[0].read_bytes()
        content = good[: len(good) // 3]
    path.write_bytes(content)
    with pytest.raises(ImageRejected, match=reason):
        read_image(path)

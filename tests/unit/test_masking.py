"""Synthetic masks over real faces, the masked test set, and which AUs survive the mask."""

import dataclasses

import numpy as np
import pandas as pd
from PIL import Image

from face_emotion.data.images import read_image
from face_emotion.data.manifest import build_manifest
from face_emotion.data.masking import image_rng, mask_image, masked_test_manifest
from face_emotion.evaluation.comparison import MEASURABLE_R, au_survival
from tests.helpers import CLASSES, build_face_folder, default_params, real_faces

SURGICAL = default_params("mask=surgical").mask


def data_params(root):
    return dataclasses.replace(default_params().data, root=str(root), val_fraction=0.0)


def test_mask_covers_the_lower_face_only():
    face = read_image(real_faces("test", "happy", 1)[0])
    masked = np.asarray(mask_image(face, SURGICAL, image_rng(42, "0" * 32)))
    original = np.asarray(face)
    assert masked.shape == original.shape == (48, 48)
    assert np.array_equal(masked[:18], original[:18])  # eyes and brows untouched (top edge at 50 % +- 4 %)
    mouth = masked[34:44, 18:30]
    assert mouth.min() == mouth.max() >= 185  # one flat light fill over mouth and chin
    assert not np.array_equal(masked[30:], original[30:])


def test_band_covers_the_full_width_and_colour_images_stay_colour():
    photo = Image.new("RGB", (200, 100), (10, 20, 30))
    masked = np.asarray(mask_image(photo, dataclasses.replace(SURGICAL, shape="band", height=0.3), image_rng(1, "ab" * 16)))
    assert masked.shape == (100, 200, 3)
    assert (masked[80:] == masked[99, 0]).all() and masked[99, 0, 0] >= 185
    assert (masked[:60] == (10, 20, 30)).all()


def test_masks_are_seeded_per_image():
    face = read_image(real_faces("test", "sad", 1)[0])
    first = np.asarray(mask_image(face, SURGICAL, image_rng(42, "1234abcd" + "0" * 24)))
    again = np.asarray(mask_image(face, SURGICAL, image_rng(42, "1234abcd" + "0" * 24)))
    other = np.asarray(mask_image(face, SURGICAL, image_rng(7, "1234abcd" + "0" * 24)))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_masked_test_set_keeps_labels_and_points_back(tmp_path):
    faces = build_face_folder(tmp_path / "faces", per_class=3)
    manifest = build_manifest(data_params(faces), seed=0)
    masked = masked_test_manifest(manifest, SURGICAL, 42, tmp_path / "masked")
    assert len(masked) == 3 * len(CLASSES) and (masked.split == "test").all()
    for row in masked.itertuples():
        assert row.path.startswith(str(tmp_path / "masked" / row.label))
        assert f"/test/{row.label}/" in row.source_path
        assert read_image(row.path).size == (48, 48)
    assert masked.md5.is_unique and not set(masked.md5) & set(manifest.md5)


def test_au_survival_tells_kept_from_lost():
    rng = np.random.default_rng(0)
    brows, mouth = rng.uniform(0, 5, 50), rng.uniform(0, 5, 50)
    unmasked = pd.DataFrame({"path": [f"f{i}" for i in range(50)], "success": True, "AU01_r": brows, "AU12_r": mouth})
    masked = pd.DataFrame({"path": [f"m{i}" for i in range(50)], "source_path": unmasked.path, "success": True,
                           "AU01_r": brows + rng.normal(0, 0.3, 50), "AU12_r": rng.uniform(0, 5, 50)})
    masked.loc[0, "success"] = False  # a face lost to the mask is left out, not counted as zero
    survival = au_survival(unmasked, masked, ["AU01_r", "AU12_r"]).set_index("au")
    assert survival.loc["AU01_r", "r"] > 0.9 and survival.loc["AU01_r", "measurable"]
    assert survival.loc["AU12_r", "r"] < MEASURABLE_R and not survival.loc["AU12_r", "measurable"]

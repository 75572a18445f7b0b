"""Synthetic masks over real faces: every style, seeded draws, batches for training, the masked test set, and which
AUs survive the mask."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from face_emotion.core.config import MASK_STYLES
from face_emotion.data.images import read_image
from face_emotion.data.manifest import build_manifest
from face_emotion.data.masking import (
    TEXTURES,
    TONES,
    MaskLook,
    apply_mask,
    coverage,
    draw_look,
    image_rng,
    mask_faces,
    write_masked_copies,
)
from face_emotion.evaluation.comparison import MEASURABLE_R, au_survival
from tests.helpers import CLASSES, build_face_folder, default_params, real_faces

MASK = default_params().mask


def data_params(root):
    return dataclasses.replace(default_params().data, root=str(root), val_fraction=0.0)


def face(label: str = "happy") -> np.ndarray:
    return np.asarray(read_image(real_faces("test", label, 1)[0]))


def test_every_style_has_its_look():
    assert set(TONES) == set(TEXTURES) == set(MASK_STYLES)


@pytest.mark.parametrize("style", MASK_STYLES)
def test_each_style_covers_mouth_and_chin_and_leaves_the_eyes(style):
    original = face()
    look = draw_look(np.random.default_rng(0), [style], (0.5, 0.5))
    masked = apply_mask(original, look, np.random.default_rng(1))
    assert masked.shape == original.shape == (48, 48) and masked.dtype == np.uint8
    assert np.array_equal(masked[:16], original[:16])  # eyes and brows untouched
    cover = coverage(look, 48, 48)
    assert cover[38:44, 20:28].min() == 1.0  # mouth and chin fully covered
    assert cover[:20].max() < 1.0 and 0.25 < cover.mean() < 0.6
    assert not np.array_equal(masked[36:], original[36:])


def test_a_higher_mask_covers_more():
    low, high = (coverage(draw_look(np.random.default_rng(0), ["surgical_flat"], (h, h)), 96, 96) for h in (0.3, 0.7))
    assert high.sum() > low.sum() * 1.5


def test_colour_photos_keep_their_size_and_get_a_tinted_mask():
    photo = np.full((100, 200, 3), (10, 20, 30), dtype=np.uint8)
    look = MaskLook("cloth", top=0.6, shift=0.0, tone=200.0, tint=(1.0, 0.6, 0.6), texture=0.0, phase=0.0)
    masked = apply_mask(photo, look, np.random.default_rng(0))
    assert masked.shape == (100, 200, 3)
    assert (masked[:50] == (10, 20, 30)).all()
    red, green, blue = masked[90, 100].astype(int)
    assert red > green + 50 and abs(green - blue) <= 3  # the cloth's tint, not grey


def test_draws_are_seeded_and_stay_in_the_configured_ranges():
    looks = [draw_look(np.random.default_rng(s), MASK.styles, (0.4, 0.6)) for s in range(200)]
    assert {look.style for look in looks} == set(MASK.styles)
    assert all(0.4 - 1e-9 <= 1 - look.top <= 0.6 + 1e-9 for look in looks)
    assert all(TONES[look.style][0] <= look.tone <= TONES[look.style][1] for look in looks)
    assert draw_look(np.random.default_rng(3), MASK.styles, (0.4, 0.6)) == looks[3]


def test_a_training_batch_masks_about_the_share_asked_and_keeps_the_rest():
    faces = np.stack([face(label) for label in CLASSES] * 40)[..., None].astype(np.float32)
    masked = mask_faces(faces, np.random.default_rng(0), 0.3, MASK.styles, (0.4, 0.6))
    changed = (masked != faces).any(axis=(1, 2, 3))
    assert masked.dtype == np.float32 and masked.shape == faces.shape
    assert 0.2 < changed.mean() < 0.4
    assert np.array_equal(masked[~changed], faces[~changed])
    assert np.array_equal(mask_faces(faces, np.random.default_rng(0), 0.3, MASK.styles, (0.4, 0.6)), masked)
    assert np.array_equal(mask_faces(faces, np.random.default_rng(0), 0.0, MASK.styles, (0.4, 0.6)), faces)


def test_masks_are_seeded_per_image():
    def masked_with(seed):
        rng = image_rng(seed, "1234abcd" + "0" * 24)
        return apply_mask(face("sad"), draw_look(rng, ["surgical_pleated"], (0.5, 0.5)), rng)

    assert np.array_equal(masked_with(42), masked_with(42)) and not np.array_equal(masked_with(42), masked_with(7))


def test_masked_test_set_keeps_labels_and_points_back(tmp_path):
    faces = build_face_folder(tmp_path / "faces", per_class=3)
    manifest = build_manifest(data_params(faces), seed=0)
    masked = write_masked_copies(manifest, ("test",), ["respirator"], (0.5, 0.5), 42, tmp_path / "masked")
    assert len(masked) == 3 * len(CLASSES) and (masked.split == "test").all()
    for row in masked.itertuples():
        assert row.path.startswith(str(tmp_path / "masked" / row.label))
        assert f"/test/{row.label}/" in row.source_path
        assert read_image(row.path).size == (48, 48)
    assert masked.md5.is_unique and not set(masked.md5) & set(manifest.md5)


def test_training_faces_get_each_copy_its_own_mask(tmp_path):
    """mask.train_copies: every train and val face masked twice, each copy its own mask; the first copy is the one a
    single copy would be (so the AU cache keeps serving it)."""
    faces = build_face_folder(tmp_path / "faces", per_class=10)
    manifest = build_manifest(dataclasses.replace(data_params(faces), val_fraction=0.2), seed=0)
    once = write_masked_copies(manifest, ("train", "val"), ["surgical_flat", "cloth"], (0.4, 0.6), 42, tmp_path / "one")
    twice = write_masked_copies(manifest, ("train", "val"), ["surgical_flat", "cloth"], (0.4, 0.6), 42, tmp_path / "two",
                                copies=2)
    assert len(twice) == 2 * len(once) and set(twice.split) == {"train", "val"} and twice.md5.is_unique
    assert list(twice.md5[: len(once)]) == list(once.md5)
    assert (twice.groupby("source_path").size() == 2).all() and (twice.groupby("source_path").label.nunique() == 1).all()


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

"""params.yaml: composed from conf/, which owns every default; checked by schemas that name the key at fault."""

import copy
import dataclasses
import shutil
import subprocess
import typing

import pytest
import yaml

from face_emotion.au.backends import BACKENDS
from face_emotion.au_models import MODELS
from face_emotion.core.config import (
    AuModelParams,
    AuParams,
    EbmModelParams,
    FeatureSet,
    MediaPipeParams,
    PairwiseModelParams,
    compose_conf,
    load_params,
    parse_params,
    write_default_params,
)
from face_emotion.core.errors import UserError
from face_emotion.core.facs import EMOTIONS
from face_emotion.core.feature_sets import FEATURE_SETS
from face_emotion.faces import finder
from face_emotion.faces.finder import FINDING_SETTINGS, finding_settings
from stages.check_params import check_features
from tests.helpers import REPO, default_params


def conf(*overrides: str) -> dict:
    return compose_conf(*overrides, conf_dir=REPO / "conf")


def test_committed_params_match_conf():
    """params.yaml is generated from conf/; a hand edit or a forgotten regeneration shows up here. The working tree's
    copy may instead hold the experiment `dvc exp run -S` applied last (`make quick`), so the committed one counts too."""
    committed = subprocess.run(["git", "show", "HEAD:params.yaml"], cwd=REPO, capture_output=True, text=True,
                               check=True).stdout
    working = (REPO / "params.yaml").read_text()
    assert conf() in (yaml.safe_load(working), yaml.safe_load(committed))


def test_default_params_are_valid(tmp_path):
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    params = load_params(write_default_params(tmp_path))
    assert params.data.classes == list(EMOTIONS)
    assert isinstance(params.au, MediaPipeParams) and isinstance(params.au_model, EbmModelParams)
    assert params.au_model.interactions + len(FEATURE_SETS[params.au_model.features]) <= 150  # a readable default


def tags(union: object, tag: str) -> set[str]:
    """The tags of a tagged union of schemas (``Annotated[A | B, Field(discriminator=tag)]``)."""
    members = typing.get_args(typing.get_args(union)[0])
    return {typing.get_args(typing.get_type_hints(schema)[tag])[0] for schema in members}


def test_each_name_has_one_owner_and_the_registries_agree():
    """Backends, model families and feature sets are named in the schema and built in their packages."""
    assert set(BACKENDS) == tags(AuParams, "backend")
    assert set(MODELS) == tags(AuModelParams, "kind")
    assert set(FEATURE_SETS) == set(typing.get_args(FeatureSet))


@pytest.mark.parametrize("option", ["au=mediapipe", "au=openface", "au=openface_csv", "au_model=linear",
                                    "au_model=additive", "au_model=pairwise", "au_model=ebm", "cnn=xception", "cnn=vgg",
                                    "mask=default", "data=openface_videos", "data=videos", "experiment=quick",
                                    "experiment=seed_reproduction", "experiment=openface_videos"])
def test_every_config_option_composes_into_valid_params(option):
    """Every schema field has its value in the YAML: no option relies on a default in code."""
    parse_params(conf(option))


def test_config_groups_swap_whole_schemas():
    assert isinstance(default_params("au_model=pairwise").au_model, PairwiseModelParams)
    params = default_params("experiment=seed_reproduction")
    assert params.data.kind == "au_table" and params.au.backend == "openface_csv"
    assert params.au_model.features == "au17_pairs"
    videos = default_params("experiment=openface_videos")
    assert videos.data.kind == "openface_videos" and videos.au.backend == "openface_csv"
    assert videos.au_model.features == "au17"


def test_quick_experiment_caps_data_and_epochs():
    params = default_params("experiment=quick")
    assert params.data.max_per_class == 40 and params.cnn.epochs == 1


def test_the_cnn_trains_with_the_experiments_seed_unless_cnn_seed_names_another():
    assert parse_params(conf()).cnn_seed == parse_params(conf()).seed == 42
    assert parse_params(conf("cnn.seed=43")).cnn_seed == 43 and parse_params(conf("cnn.seed=43")).seed == 42


@pytest.mark.parametrize("override", ["cnn=resnet", "cnn.nope=1", "cnn=="])
def test_bad_override_gives_one_line(override):
    """What a benchmark's -S gets wrong is named in one line, as the stages name bad params."""
    with pytest.raises(UserError, match=r"^params: ") as raised:
        conf(override)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["data"].update(classes=["happy", "joy"]),
         r"data\.classes\[1\]: input should be 'angry', 'disgust', 'happy', 'neutral',"),
        (lambda r: r["data"].update(classes=["happy", "happy"]), r"data\.classes: lists 'happy' twice; each item once"),
        (lambda r: r["data"].update(val_fraction=1.5), r"data\.val_fraction: input should be less than 1, got 1\.5"),
        (lambda r: r["data"].update(max_per_class=0), r"data\.max_per_class: input should be greater than or equal to 1, got 0"),
        (lambda r: r["data"].update(val_fraction=0), "params: data.val_fraction must be above 0 for images: the CNN stops early"),
        (lambda r: r["data"].update(kind="video"), "unknown data.kind 'video'"),
        (lambda r: r["au_model"].update(interactions="many"),
         r"au_model\.interactions: input should be a valid integer, got 'many'"),
        (lambda r: r["au_model"].update(interactions=-1),
         r"au_model\.interactions: input should be greater than or equal to 0, got -1"),
        (lambda r: r["au_model"].update(outer_bags=0),
         r"au_model\.outer_bags: input should be greater than or equal to 1, got 0"),
        (lambda r: r["au_model"].update(class_weight="heavy"),
         r"au_model\.class_weight: input should be 'balanced', got 'heavy'"),
        (lambda r: r["au_model"].update(features="pixels"),
         r"au_model\.features: input should be 'au17', 'au17_pairs', 'blendshapes',"),
        (lambda r: r["au_model"].update(kind="forest"), "unknown au_model.kind 'forest'"),
        (lambda r: r["au_model"].update(knots=4), "unknown key 'au_model.knots'"),
        (lambda r: r.update(au_model={**r["au_model"], "kind": "linear"}), r"missing key 'au_model\.C'"),
        (lambda r: r["cnn"].update(epoch=3), "unknown key 'cnn.epoch'"),
        (lambda r: r["cnn"].update(arch="resnet"), r"cnn\.arch: input should be 'vgg' or 'xception', got 'resnet'"),
        (lambda r: r["cnn"].update(optimizer="rmsprop"), r"cnn\.optimizer: input should be 'adam' or 'sgd', got 'rmsprop'"),
        (lambda r: r["cnn"].update(dropout=1.0), r"cnn\.dropout: input should be less than 1, got 1\.0"),
        (lambda r: r["cnn"].update(filters=[]), r"cnn\.filters: list should have at least 1 item after validation, not 0, got"),
        (lambda r: r["cnn"].update(epochs=0), r"cnn\.epochs: input should be greater than or equal to 1, got 0"),
        (lambda r: r["cnn"].update(arch="vgg", dense_units=0),
         r"cnn: dense_units must be at least 1 for arch=vgg \(its dense layer\)"),
        (lambda r: r["cnn"]["augment"].update(shift=-0.1),
         r"cnn\.augment\.shift: input should be greater than or equal to 0, got -0\.1"),
        (lambda r: r["au"].pop("mirror"), "missing key 'au.mirror'"),
        (lambda r: r["au"].update(mirror="yes"), r"au\.mirror: input should be a valid boolean, got 'yes'"),
        (lambda r: r["au"].update(backend="nonexistent"), r"unknown au\.backend 'nonexistent' \(known: 'mediapipe', 'openface',"),
        (lambda r: r["compute"].update(au_workers=0), r"compute\.au_workers: input should be greater than or equal to 1, got 0"),
        (lambda r: r["practice"].update(faces_per_emotion=0),
         r"practice\.faces_per_emotion: input should be greater than or equal to 1,"),
        (lambda r: r["practice"].update(min_confidence=1.5),
         r"practice\.min_confidence: input should be less than or equal to 1, got 1\.5"),
        (lambda r: r["practice"].update(round_length="all"),
         r"practice\.round_length: input should be a valid integer, got 'all'"),
        (lambda r: r["practice"].pop("seed"), "missing key 'practice.seed'"),
        (lambda r: r["mask"].update(test_style="scarf"),
         r"mask\.test_style: input should be 'surgical_pleated', 'surgical_flat',"),
        (lambda r: r["mask"].update(styles=["cloth", "bandana"]),
         r"mask\.styles\[1\]: input should be 'surgical_pleated', 'surgical_flat',"),
        (lambda r: r["mask"].update(styles=[]), r"mask\.styles: list should have at least 1 item after validation, not 0, got"),
        (lambda r: r["mask"].update(height=[0.1, 0.5]),
         r"mask\.height\[0\]: input should be greater than or equal to 0\.2, got 0\.1"),
        (lambda r: r["mask"].update(height=[0.6, 0.4]),
         r"mask: height must be \[low, high\] with low <= high, got \[0\.6, 0\.4\]"),
        (lambda r: r["mask"].update(height=0.5), r"mask\.height: input should be a valid list, got 0\.5"),
        (lambda r: r["mask"].update(test_height=0.9), r"mask\.test_height: input should be less than or equal to 0\.8, got 0\.9"),
        (lambda r: r["mask"].update(unseen_style="cloth"),
         "mask: unseen_style 'cloth' is one of styles, so it would not be unseen"),
        (lambda r: r["mask"].update(au_features="au17"), r"mask\.au_features: input should be 'upper_face' or"),
        (lambda r: r["mask"].update(train_copies=0), r"mask\.train_copies: input should be greater than or equal to 1, got 0"),
        (lambda r: r["au"].update(rescue_confidence=0.5),
         r"au: rescue_confidence \(0\.5\) must be below min_confidence \(0\.3\): it"),
        (lambda r: r["au"].update(rescue_confidence=-0.1),
         r"au\.rescue_confidence: input should be greater than or equal to 0, got -0\.1"),
        (lambda r: r["cnn"].update(mask_prob=1.5), r"cnn\.mask_prob: input should be less than or equal to 1, got 1\.5"),
        (lambda r: r["cnn"].update(mask_prob=-0.1), r"cnn\.mask_prob: input should be greater than or equal to 0, got -0\.1"),
        (lambda r: r["cnn"].update(concepts="blendshapes"),
         r"cnn\.concepts: input should be 'au17' or 'au17_geometry', got 'blendshapes'"),
        (lambda r: r["cnn"].update(concept_weight=-1),
         r"cnn\.concept_weight: input should be greater than or equal to 0, got -1"),
        (lambda r: r["cnn"].update(concept_training="both"),
         r"cnn\.concept_training: input should be 'joint' or 'sequential', got 'both'"),
        (lambda r: r["cnn"].update(class_bias="accuracy"),
         r"cnn\.class_bias: input should be 'macro_f1', got 'accuracy'"),
        (lambda r: r["cnn"].update(concepts="au17", class_weight="balanced"),
         r"cnn: class_weight must be null with concepts \(Keras weighs classes only"),
        (lambda r: r["cnn"].update(concepts="au17", concept_training="sequential", concept_weight=0),
         r"cnn: concept_weight must be above 0 with concept_training=sequential \(the"),
        (lambda r: r["cnn"].update(seed="43"), r"cnn\.seed: input should be a valid integer, got '43'"),
        (lambda r: r["cnn"].update(seed=4.0), r"cnn\.seed: input should be a valid integer, got 4\.0"),
        (lambda r: r["cnn"].update(seed=-1), r"cnn\.seed: input should be greater than or equal to 0, got -1"),
        (lambda r: r.update(seed=2**32), r"^params: seed: input should be less than or equal to 4294967295, got 4294967296"),
        (lambda r: r["practice"].update(seed=-7), r"practice\.seed: input should be greater than or equal to 0, got -7"),
        (lambda r: r.pop("seed"), "missing key 'seed'"),
        (lambda r: r.update(logreg={}), "unknown key 'logreg'"),
    ],
)
def test_bad_params_give_one_line_naming_the_key(change, message):
    bad = copy.deepcopy(conf())
    change(bad)
    with pytest.raises(UserError, match=message) as raised:
        parse_params(bad)
    assert "\n" not in str(raised.value)


def test_params_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        default_params().au_model.interactions = 2  # type: ignore[misc]


def test_missing_and_unreadable_params_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_params(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("seed: [\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_params(tmp_path / "params.yaml")


def leaf_keys(node: dict, prefix: str = "") -> set[str]:
    return {key for name, value in node.items()
            for key in (leaf_keys(value, f"{prefix}{name}.") if isinstance(value, dict) else {f"{prefix}{name}"})}


def test_every_key_of_every_option_is_documented():
    """docs/configuration.md names every key any conf/ option composes (the YAML owns the values)."""
    page = (REPO / "docs" / "configuration.md").read_text()
    options = ["au=openface", "au=openface_csv", "au_model=additive", "au_model=pairwise", "au_model=ebm",
               "experiment=seed_reproduction", "experiment=openface_videos", "data=videos"]
    keys = set().union(leaf_keys(conf()), *(leaf_keys(conf(option)) for option in options))
    undocumented = sorted(key for key in keys if f"`{key.rsplit('.', 1)[-1]}`" not in page and f"`{key}`" not in page
                          and f".{key.rsplit('.', 1)[-1]}`" not in page)
    assert not undocumented, f"keys missing from docs/configuration.md: {undocumented}"


def test_feature_sets_the_backend_cannot_measure_are_refused_before_any_stage():
    """au=openface_csv measures the 17 AUs only: the default AU model's blendshape and landmark features would fail
    at train_au_model, after three stages had replaced their outputs; check_params refuses them at once."""
    with pytest.raises(UserError, match=r"au_model.features=au17_geometry_blendshapes reads 'bs__neutral', which "
                                        r"au=openface_csv does not measure"):
        check_features(default_params("au=openface_csv"))
    with pytest.raises(UserError, match=r"mask.au_features=upper_face_geometry_blendshapes reads"):
        check_features(default_params("au=openface_csv", "au_model.features=au17_pairs"))
    with pytest.raises(UserError, match=r"cnn.concepts=au17_geometry reads 'lm_"):
        check_features(default_params("au=openface_csv", "au_model.features=au17", "mask.au_features=upper_face"))
    check_features(default_params("experiment=seed_reproduction"))  # an AU table: AUs only, no masked faces
    check_features(default_params("au=openface_csv", "au_model.features=au17", "mask.au_features=upper_face",
                                  "cnn.concepts=au17"))
    check_features(default_params())


def test_faces_are_found_with_the_settings_prepare_declares(tmp_path, monkeypatch):
    """Video frames are cropped with conf/au/mediapipe.yaml's settings (no mirror: finding, not measuring); prepare
    lists each of their keys as params, so editing one reruns it; a damaged file is one line."""
    assert finding_settings() == dataclasses.replace(default_params().au, mirror=False)
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    (declared,) = [entry for entry in stages["prepare"]["params"] if isinstance(entry, dict)]
    settings = FINDING_SETTINGS.relative_to(REPO).as_posix()
    assert set(declared[settings]) == {field.name for field in dataclasses.fields(MediaPipeParams)} - {"backend", "mirror"}
    for text, message in (("pad: [\n", "mediapipe.yaml cannot be read"), ("- 1\n", "params: au: input should be"),
                          ((REPO / settings).read_text().replace("size: 192", "size: 16"), "au.size: input should be")):
        (tmp_path / "mediapipe.yaml").write_text(text)
        monkeypatch.setattr(finder, "FINDING_SETTINGS", tmp_path / "mediapipe.yaml")
        finding_settings.cache_clear()
        with pytest.raises(UserError, match=message):
            finding_settings()
    finding_settings.cache_clear()

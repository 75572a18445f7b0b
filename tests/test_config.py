"""params.yaml: composed from conf/, validated with one-line errors."""

import copy
import shutil
import subprocess

import pytest
import yaml

from face_emotion.config import EMOTIONS, load_params, parse_params, write_default_params
from face_emotion.config import compose_conf as compose_repo_conf
from face_emotion.errors import UserError

from .conftest import REPO


def compose_conf(*overrides: str) -> dict:
    return compose_repo_conf(*overrides, conf_dir=REPO / "conf")


def test_committed_params_match_conf():
    """params.yaml is generated from conf/; a hand edit or a forgotten regeneration shows up here. The working tree's
    copy may instead hold the experiment `dvc exp run -S` applied last (`make quick`), so the committed one counts too."""
    committed = subprocess.run(["git", "show", "HEAD:params.yaml"], cwd=REPO, capture_output=True, text=True,
                               check=True).stdout
    working = (REPO / "params.yaml").read_text()
    assert compose_conf() in (yaml.safe_load(working), yaml.safe_load(committed))


def test_default_params_are_valid(tmp_path):
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    params = load_params(write_default_params(tmp_path))
    assert params.data.classes == list(EMOTIONS)
    assert params.au.backend == "mediapipe"


def test_cnn_architectures_compose():
    params = parse_params(compose_conf("cnn=xception", "experiment=quick"))
    assert params.cnn.arch == "xception" and params.cnn.epochs == 1 and params.cnn.schedule == "cosine"


@pytest.mark.parametrize("override", ["cnn=resnet", "cnn.nope=1", "cnn=="])
def test_bad_override_gives_one_line(override):
    """What a benchmark's -S gets wrong is named in one line, as the stages name bad params."""
    with pytest.raises(UserError, match=r"^params: ") as raised:
        compose_conf(override)
    assert "\n" not in str(raised.value)


def test_pairwise_experiment_selects_the_pairwise_model():
    params = parse_params(compose_conf("experiment=pairwise"))
    assert params.logreg.pair_rounds == 2000 and params.logreg.knots == 0 and params.logreg.class_weight is None


def test_quick_experiment_caps_data_and_epochs():
    params = parse_params(compose_conf("experiment=quick"))
    assert params.data.max_per_class == 40
    assert params.cnn.epochs == 1


@pytest.fixture
def raw() -> dict:
    return compose_conf()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["data"].update(classes=["happy", "joy"]), "unknown class 'joy'"),
        (lambda r: r["data"].update(val_fraction=1.5), "data.val_fraction"),
        (lambda r: r["logreg"].update(C="strong"), "'logreg.C' = 'strong'"),
        (lambda r: r["logreg"].update(C=-1), "logreg.C must be positive"),
        (lambda r: r["cnn"].update(epoch=3), "unknown key 'cnn.epoch'"),
        (lambda r: r["cnn"].update(arch="resnet"), "cnn.arch must be one of vgg, xception"),
        (lambda r: r["cnn"].update(optimizer="rmsprop"), "cnn.optimizer must be adam or sgd"),
        (lambda r: r["cnn"].update(schedule="step"), "cnn.schedule must be plateau or cosine"),
        (lambda r: r["cnn"].update(dropout=1.0), "cnn.dropout be at least 0 and below 1"),
        (lambda r: r["cnn"].update(filters=[]), "cnn.filters must list positive widths"),
        (lambda r: r["au"].pop("workers"), "missing key 'au.workers'"),
        (lambda r: r["au"].update(mirror="yes"), "'au.mirror' = 'yes'"),
        (lambda r: r["au"].update(backend="openface"), "au.mirror is a MediaPipe setting; au.backend=openface"),
        (lambda r: r.pop("seed"), "missing key 'seed'"),
        (lambda r: r["logreg"].update(class_weight="heavy"), "class_weight"),
        (lambda r: r["logreg"].update(knots=1), "logreg.knots must be 0 .linear. or at least 2, got 1"),
        (lambda r: r["logreg"].update(knots=-3), "logreg.knots must be 0"),
        (lambda r: r["logreg"].update(pair_rounds=-1), "logreg.pair_rounds must be 0 or more"),
        (lambda r: r["logreg"].update(learning_rate=0), "logreg.learning_rate positive"),
        (lambda r: r["logreg"].update(knots=5, pair_rounds=100), "logreg.knots and logreg.pair_rounds both set"),
        (lambda r: r["evaluate"]["mask"].update(shape="scarf"), "evaluate.mask.shape must be one of surgical, band"),
        (lambda r: r["evaluate"]["mask"].update(height=1.0), "evaluate.mask.height must be between 0 and 1"),
        (lambda r: r["evaluate"].pop("teachable_machine_dir"), "missing key 'evaluate.teachable_machine_dir'"),
    ],
)
def test_bad_params_give_one_line(raw, change, message):
    bad = copy.deepcopy(raw)
    change(bad)
    with pytest.raises(UserError, match=message) as excinfo:
        parse_params(bad)
    assert "\n" not in str(excinfo.value)


def test_missing_params_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_params(tmp_path / "params.yaml")

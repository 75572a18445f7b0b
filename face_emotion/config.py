"""Typed, validated view of ``params.yaml`` (composed from ``conf/`` by DVC's Hydra support)."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from face_emotion.errors import UserError

EMOTIONS = ("angry", "disgust", "happy", "neutral", "sad", "surprise")
"""The six emotions this project knows; a configuration picks from these."""
MASK_SHAPES = ("surgical", "band")
CNN_ARCHITECTURES = ("vgg", "xception")


@dataclass(frozen=True)
class DataParams:
    """Where the faces (or a table of their AUs) are, and which of them to use."""

    root: str
    classes: list[str]
    val_fraction: float
    max_per_class: int | None = None
    kind: str = "images"
    """images: <root>/{train,test}/<class>/ folders; au_table: one CSV of AU rows with a label column."""
    label_column: str | None = None
    label_codes: list[str] | None = None
    test_fraction: float | None = None
    reference_model: str | None = None
    reference_accuracy: float | None = None


@dataclass(frozen=True)
class AuParams:
    """How Action Units are measured."""

    backend: str
    workers: int
    pad: int = 48
    size: int = 192
    min_detection_confidence: float = 0.3
    min_presence_confidence: float = 0.3
    mirror: bool = False
    """MediaPipe: also measure the mirror image and average the two, a steadier measurement in twice the time."""
    model_path: str | None = None
    csv_dir: str | None = None
    docker_image: str | None = None
    executor: str = "processes"
    """processes: a local process pool of ``workers``; dask: dask.distributed (a local cluster of ``workers``
    processes, or the cluster at ``scheduler_address``)."""
    scheduler_address: str | None = None


@dataclass(frozen=True)
class LogregParams:
    """The explainable model: multinomial logistic regression on AU features."""

    features: str
    penalty: str
    C: float
    l1_ratio: float
    class_weight: str | None
    standardise: bool
    max_iter: int
    knots: int = 0
    """0: linear in every feature; k >= 2: a piecewise-linear curve per feature through k quantile knots
    (a glass-box additive model: each feature's term of the logit is still exact)."""
    pair_rounds: int = 0
    """0: logistic regression; n > 0: the glass-box pairwise model instead, terms of one feature or a pair grown by
    n rounds of boosted depth-2 trees (penalty, C, l1_ratio, standardise, max_iter and knots unused)."""
    learning_rate: float = 0.1
    """The pairwise model's boosting step."""


@dataclass(frozen=True)
class AugmentParams:
    """On-the-fly augmentation of the CNN's training faces."""

    flip: bool
    shift: float
    rotation: float
    zoom: float
    brightness: float = 0.0


@dataclass(frozen=True)
class CnnParams:
    """The reference CNN on raw 48x48 faces."""

    arch: str
    filters: list[int]
    dense_units: int
    dropout: float
    epochs: int
    batch_size: int
    learning_rate: float
    patience: int
    augment: AugmentParams
    optimizer: str = "adam"
    schedule: str = "plateau"
    class_weight: str | None = None
    tta: bool = False
    """Also score the mean prediction of each test face and its mirror image (cnn_tta)."""
    threads: int = 0


@dataclass(frozen=True)
class MaskParams:
    """The synthetic mask drawn over the lower face of every test image (seeded per image)."""

    shape: str
    height: float
    """Share of the image height covered, from the bottom edge up."""


@dataclass(frozen=True)
class EvaluateParams:
    """How every model is compared on the test split."""

    mask: MaskParams
    teachable_machine_dir: str
    """Teachable Machine exports (keras_model.h5 + labels.txt), one per subfolder, join the comparison."""


@dataclass(frozen=True)
class Params:
    """All parameters of one experiment."""

    seed: int
    data: DataParams
    au: AuParams
    logreg: LogregParams
    cnn: CnnParams
    evaluate: EvaluateParams


def _matches(value: Any, annotation: Any) -> bool:
    """Whether ``value`` fits a simple type annotation (int, float, str, bool, list[x], x | None)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def _build(cls: type, raw: Any, where: str) -> Any:
    """Build dataclass ``cls`` from mapping ``raw``, naming the offending key on any mismatch."""
    if not isinstance(raw, dict):
        raise UserError(f"params: '{where}' must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserError(f"params: unknown key '{where}.{unknown[0]}'")
    values = {}
    for f in dataclasses.fields(cls):
        key = f"{where}.{f.name}"
        if f.name not in raw:
            if f.default is dataclasses.MISSING:
                raise UserError(f"params: missing key '{key}'")
            continue
        value = raw[f.name]
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            values[f.name] = _build(hint, value, key)
        elif not _matches(value, hint):
            raise UserError(f"params: '{key}' = {value!r} is not of type {hint}")
        else:
            values[f.name] = float(value) if hint is float else value
    return cls(**values)


def _check(params: Params) -> None:
    """Cross-field checks that types alone cannot express."""
    data = params.data
    unknown = [c for c in data.classes if c not in EMOTIONS]
    if unknown:
        raise UserError(f"params: unknown class '{unknown[0]}' in data.classes (known: {', '.join(EMOTIONS)})")
    if len(set(data.classes)) != len(data.classes) or len(data.classes) < 2:
        raise UserError("params: data.classes must name at least two distinct classes")
    if not 0 <= data.val_fraction < 1:
        raise UserError(f"params: data.val_fraction must be at least 0 and below 1, got {data.val_fraction}")
    if data.max_per_class is not None and data.max_per_class < 1:
        raise UserError(f"params: data.max_per_class must be positive or null, got {data.max_per_class}")
    if data.kind not in ("images", "au_table"):
        raise UserError(f"params: data.kind must be images or au_table, got {data.kind!r}")
    if data.kind == "au_table" and not (data.label_column and data.label_codes and data.test_fraction):
        raise UserError("params: data.kind=au_table needs data.label_column, data.label_codes and data.test_fraction")
    if data.test_fraction is not None and not 0 < data.test_fraction < 1:
        raise UserError(f"params: data.test_fraction must be between 0 and 1, got {data.test_fraction}")
    if params.au.executor not in ("processes", "dask"):
        raise UserError(f"params: au.executor must be processes or dask, got {params.au.executor!r}")
    if params.au.mirror and params.au.backend != "mediapipe":
        raise UserError(f"params: au.mirror is a MediaPipe setting; au.backend={params.au.backend} measures each face once")
    if params.au.workers < 1:
        raise UserError(f"params: au.workers must be at least 1, got {params.au.workers}")
    if params.logreg.C <= 0:
        raise UserError(f"params: logreg.C must be positive, got {params.logreg.C}")
    if params.logreg.penalty not in ("l2", "l1", "elasticnet"):
        raise UserError(f"params: logreg.penalty must be l2, l1 or elasticnet, got {params.logreg.penalty!r}")
    if not 0 <= params.logreg.l1_ratio <= 1:
        raise UserError(f"params: logreg.l1_ratio must be between 0 and 1, got {params.logreg.l1_ratio}")
    if params.logreg.knots == 1 or params.logreg.knots < 0:
        raise UserError(f"params: logreg.knots must be 0 (linear) or at least 2, got {params.logreg.knots}")
    if params.logreg.pair_rounds < 0 or params.logreg.learning_rate <= 0:
        raise UserError("params: logreg.pair_rounds must be 0 or more and logreg.learning_rate positive, got "
                        f"{params.logreg.pair_rounds} and {params.logreg.learning_rate}")
    if params.logreg.pair_rounds and params.logreg.knots:
        raise UserError("params: logreg.knots and logreg.pair_rounds both set: choose the additive model (knots) "
                        "or the pairwise model (pair_rounds)")
    if params.logreg.class_weight not in (None, "balanced"):
        raise UserError(f"params: logreg.class_weight must be 'balanced' or null, got {params.logreg.class_weight!r}")
    cnn = params.cnn
    if cnn.epochs < 1 or cnn.batch_size < 1:
        raise UserError("params: cnn.epochs and cnn.batch_size must be at least 1")
    if cnn.arch not in CNN_ARCHITECTURES:
        raise UserError(f"params: cnn.arch must be one of {', '.join(CNN_ARCHITECTURES)}, got {cnn.arch!r}")
    if cnn.optimizer not in ("adam", "sgd"):
        raise UserError(f"params: cnn.optimizer must be adam or sgd, got {cnn.optimizer!r}")
    if cnn.schedule not in ("plateau", "cosine"):
        raise UserError(f"params: cnn.schedule must be plateau or cosine, got {cnn.schedule!r}")
    if cnn.class_weight not in (None, "balanced"):
        raise UserError(f"params: cnn.class_weight must be 'balanced' or null, got {cnn.class_weight!r}")
    if not cnn.filters or min(cnn.filters) < 1 or cnn.learning_rate <= 0 or not 0 <= cnn.dropout < 1:
        raise UserError("params: cnn.filters must list positive widths, cnn.learning_rate be positive and "
                        "cnn.dropout be at least 0 and below 1")
    mask = params.evaluate.mask
    if mask.shape not in MASK_SHAPES:
        raise UserError(f"params: evaluate.mask.shape must be one of {', '.join(MASK_SHAPES)}, got {mask.shape!r}")
    if not 0 < mask.height < 1:
        raise UserError(f"params: evaluate.mask.height must be between 0 and 1, got {mask.height}")


def parse_params(raw: Any) -> Params:
    """Validate a raw parameter mapping and return it typed."""
    if not isinstance(raw, dict):
        raise UserError("params: the file must hold a mapping")
    sections = {"data": DataParams, "au": AuParams, "logreg": LogregParams, "cnn": CnnParams, "evaluate": EvaluateParams}
    missing = [name for name in ("seed", *sections) if name not in raw]
    if missing:
        raise UserError(f"params: missing key '{missing[0]}'")
    unknown = sorted(set(raw) - {"seed", *sections})
    if unknown:
        raise UserError(f"params: unknown key '{unknown[0]}'")
    if not _matches(raw["seed"], int):
        raise UserError(f"params: 'seed' must be an integer, got {raw['seed']!r}")
    built = {name: _build(cls, raw[name], name) for name, cls in sections.items()}
    params = Params(seed=raw["seed"], **built)
    _check(params)
    return params


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate the experiment's parameters."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"params: {path} not found (run from the repository root)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise UserError(f"params: {path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    return parse_params(raw)


def write_default_params(project_dir: str | Path = ".") -> Path:
    """``project_dir``/params.yaml composed from its conf/ with no overrides, exactly as ``dvc exp run`` writes it."""
    from dvc.utils.hydra import compose_and_dump

    project_dir = Path(project_dir).resolve()
    compose_and_dump(project_dir / "params.yaml", str(project_dir / "conf"), None, "config", str(project_dir), [])
    return project_dir / "params.yaml"


def compose_conf(*overrides: str, conf_dir: str | Path = "conf") -> dict:
    """The raw parameters Hydra composes from ``conf_dir`` with ``overrides`` (``cnn=vgg``, ``logreg.C=0.1``):
    what ``dvc exp run -S`` would write to params.yaml."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf

    try:
        with initialize_config_dir(config_dir=str(Path(conf_dir).resolve()), version_base=None):
            return OmegaConf.to_container(compose(config_name="config", overrides=list(overrides)))
    except HydraException as exc:
        raise UserError(f"params: {str(exc).splitlines()[0]}") from exc

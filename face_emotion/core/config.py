"""The experiment's parameters: ``params.yaml`` (composed from ``conf/`` by DVC's Hydra support) read into typed
schemas that check themselves and name the key at fault. Every default lives in conf/; nothing here has one.

A field's constraints sit beside it (as scikit-learn's ``_parameter_constraints`` sit beside ``__init__``):
``Annotated[float, Range(0, None, low_open=True)]`` is a positive float, ``Literal[...]`` a closed choice. A union of
schemas (``au``, ``au_model``, ``data``) is chosen by its first field, the tag (``backend``, ``kind``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml

from face_emotion.core.errors import UserError
from face_emotion.core.facs import EMOTIONS

PARAMS_FILE = "params.yaml"
"""The composed parameters every stage reads (dvc exp run writes it from conf/)."""

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
"""The project's Hydra configuration, whatever the working directory."""


@dataclass(frozen=True)
class Range:
    """A numeric interval: ``low`` and ``high`` (None: unbounded), each closed unless marked open."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def check(self, key: str, value: float) -> None:
        below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        above = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if below or above:
            raise UserError(f"params: {key} must be {self}, got {value!r}")

    def __str__(self) -> str:
        if self.high is None:
            return f"{'above' if self.low_open else 'at least'} {self.low:g}"
        if self.low is None:
            return f"{'below' if self.high_open else 'at most'} {self.high:g}"
        return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


@dataclass(frozen=True)
class OneOf:
    """A name from a fixed vocabulary; ``what`` names the kind of thing in the error ('class')."""

    options: tuple[str, ...]
    what: str

    def check(self, key: str, value: str) -> None:
        if value not in self.options:
            raise UserError(f"params: unknown {self.what} {value!r} in {key} (known: {', '.join(self.options)})")


@dataclass(frozen=True)
class Items:
    """A list of at least ``minimum`` items, each listed once if ``distinct``."""

    minimum: int
    distinct: bool = False

    def check(self, key: str, value: list) -> None:
        if len(value) < self.minimum or (self.distinct and len(set(value)) != len(value)):
            each = " distinct" if self.distinct else ""
            raise UserError(f"params: {key} must list at least {self.minimum}{each} item(s), got {value!r}")


POSITIVE = Range(0, None, low_open=True)
SHARE = Range(0, 1, high_open=True)
"""0 (none) up to, not including, 1 (all)."""
OPEN_SHARE = Range(0, 1, low_open=True, high_open=True)
Emotion = Annotated[str, OneOf(EMOTIONS, "class")]
Classes = Annotated[list[Emotion], Items(2, distinct=True)]
FeatureSet = Literal["au17", "au17_pairs", "blendshapes", "both", "au17_geometry", "au17_geometry_blendshapes",
                     "au17_pairs_geometry", "au17_pairs_geometry_blendshapes", "upper_face",
                     "upper_face_geometry_blendshapes"]
"""The AU-table columns an AU model reads (face_emotion.au_models.features defines each)."""
AboveMaskFeatureSet = Literal["upper_face", "upper_face_geometry_blendshapes"]
"""The feature sets that name only what a mask leaves visible."""
ConceptSet = Literal["au17", "au17_geometry"]
"""The feature sets a concept-bottleneck CNN may predict: named measurements only (no products, no blendshapes)."""
ClassWeight = Literal["balanced"] | None


@dataclass(frozen=True)
class ImageData:
    """Face images in the Kaggle FER2013 layout: <root>/{train,test}/<class>/*."""

    kind: Literal["images"]
    root: str
    classes: Classes
    val_fraction: Annotated[float, SHARE]
    """Stratified share of train held out for validation."""
    max_per_class: Annotated[int, Range(1)] | None
    """Cap on usable images per class and split (null: all)."""

    def check(self, where: str) -> None:
        if self.val_fraction == 0:
            raise UserError(f"params: {where}.val_fraction must be above 0 for images: the CNN stops early on the "
                            "validation split")


@dataclass(frozen=True)
class AuTableData:
    """A CSV of AU intensities with a label column (OpenFace output made elsewhere); no images."""

    kind: Literal["au_table"]
    root: str
    classes: Classes
    val_fraction: Annotated[float, SHARE]
    max_per_class: Annotated[int, Range(1)] | None
    label_column: str
    label_codes: Annotated[list[str], Items(2, distinct=True)]
    """The label column's codes 0, 1, ... in order, as class names."""
    group_column: str | None
    """Rows sharing a value of this column (a video, a subject) stay in one split (null: rows are independent)."""
    test_fraction: Annotated[float, OPEN_SHARE]
    """Random (not stratified) test hold-out, the original project's protocol."""
    reference_model: str | None
    reference_accuracy: Annotated[float, Range(0, 1)] | None


@dataclass(frozen=True)
class OpenFaceVideosData:
    """OpenFace FeatureExtraction CSVs of labelled videos, <root>/<class>/<video>.csv (a row per frame); no images.
    A video's frames stay in one split."""

    kind: Literal["openface_videos"]
    root: str
    classes: Classes
    val_fraction: Annotated[float, SHARE]
    """Share of the training videos held out for validation (whole videos)."""
    max_per_class: Annotated[int, Range(1)] | None
    """Cap on usable frames per class and split (null: all)."""
    test_fraction: Annotated[float, OPEN_SHARE]
    """Share of the videos held out for testing (whole videos, stratified by class)."""
    frame_step: Annotated[int, Range(1)]
    """Every frame_step-th frame of a video is used (neighbouring frames are near copies)."""


@dataclass(frozen=True)
class VideoData:
    """Labelled video files, <root>/<class>/<video>: the face of every frame_step-th frame is found by MediaPipe and
    cropped as FER2013 faces are, and the crops are the data's face images. A video's frames stay in one split."""

    kind: Literal["videos"]
    root: str
    classes: Classes
    val_fraction: Annotated[float, SHARE]
    """Share of the training videos held out for validation (whole videos)."""
    max_per_class: Annotated[int, Range(1)] | None
    """Cap on usable frames per class and split (null: all)."""
    test_fraction: Annotated[float, OPEN_SHARE]
    """Share of the videos held out for testing (whole videos, stratified by class)."""
    frame_step: Annotated[int, Range(1)]
    """Every frame_step-th frame of a video is used (neighbouring frames are near copies)."""

    def check(self, where: str) -> None:
        ImageData.check(self, where)  # type: ignore[arg-type]


DataParams = ImageData | AuTableData | OpenFaceVideosData | VideoData
FaceImageData = ImageData | VideoData
"""Data whose faces are images: the CNN, the mask detector and the masked comparison need them."""


@dataclass(frozen=True)
class MediaPipeParams:
    """MediaPipe FaceLandmarker blendshapes and landmarks mapped to OpenFace AU intensities (offline)."""

    backend: Literal["mediapipe"]
    pad: Annotated[int, Range(0)]
    """Grey border (px) around a tight 48x48 face crop before detection."""
    size: Annotated[int, Range(64)]
    """Side (px) the padded crop is upscaled to."""
    min_confidence: Annotated[float, Range(0, 1)]
    """Face detection and presence confidence."""
    rescue_confidence: Annotated[float, Range(0, 1)] | None
    """A tight crop found by no view is searched again at this lower confidence, in other framings (masked faces);
    null: not searched again."""
    mirror: bool
    """Also measure the mirror image and average the two (steadier, twice the time)."""

    def check(self, where: str) -> None:
        if self.rescue_confidence is not None and self.rescue_confidence >= self.min_confidence:
            raise UserError(f"params: {where}.rescue_confidence ({self.rescue_confidence}) must be below "
                            f"{where}.min_confidence ({self.min_confidence}): it searches again only what that missed")


@dataclass(frozen=True)
class OpenFaceParams:
    """OpenFace 2.x FaceLandmarkImg in Docker."""

    backend: Literal["openface"]
    image: str
    """The Docker image; its local content digest is part of the AU cache key. Pin one: name@sha256:<digest>."""
    memory_gb: Annotated[float, POSITIVE]
    """The container's memory limit."""
    cpus: Annotated[float, POSITIVE]
    """The container's CPU limit."""


@dataclass(frozen=True)
class OpenFaceCsvParams:
    """OpenFace CSVs made elsewhere."""

    backend: Literal["openface_csv"]
    csv_dir: str | None
    """One FaceLandmarkImg CSV per image, named <image stem>.csv (null: the data is an AU table)."""


AuParams = MediaPipeParams | OpenFaceParams | OpenFaceCsvParams


@dataclass(frozen=True)
class LinearModelParams:
    """Multinomial logistic regression on standardised AU features."""

    kind: Literal["linear"]
    features: FeatureSet
    C: Annotated[float, POSITIVE]
    """Inverse regularisation strength."""
    l1_ratio: Annotated[float, Range(0, 1)]
    """0: l2 penalty; 1: l1 (sparse profiles); between: elastic net."""
    class_weight: ClassWeight


@dataclass(frozen=True)
class AdditiveModelParams:
    """A glass-box additive model: a piecewise-linear curve per feature and emotion through quantile knots."""

    kind: Literal["additive"]
    features: FeatureSet
    knots: Annotated[int, Range(2)]
    C: Annotated[float, POSITIVE]
    class_weight: ClassWeight


@dataclass(frozen=True)
class PairwiseModelParams:
    """A glass-box pairwise model (GA2M): terms of one feature or a pair, from boosted depth-2 trees."""

    kind: Literal["pairwise"]
    features: FeatureSet
    rounds: Annotated[int, Range(1)]
    learning_rate: Annotated[float, POSITIVE]
    class_weight: ClassWeight


@dataclass(frozen=True)
class EbmModelParams:
    """InterpretML's Explainable Boosting Machine (a GA2M): a shape function per feature and for a few chosen pairs."""

    kind: Literal["ebm"]
    features: FeatureSet
    interactions: Annotated[int, Range(0)]
    """Pair terms, found by FAST in the order of their gain; 0: main effects only."""
    max_bins: Annotated[int, Range(3)]
    """Bins of a feature's shape function."""
    max_interaction_bins: Annotated[int, Range(3)]
    """Bins per feature of a pair term."""
    outer_bags: Annotated[int, Range(1)]
    """Bagged fits averaged into the model (more: smoother shapes, slower)."""
    class_weight: ClassWeight
    """balanced: each class weighs as much in the fit (as sample weights)."""


AuModelParams = LinearModelParams | AdditiveModelParams | PairwiseModelParams | EbmModelParams


@dataclass(frozen=True)
class AugmentParams:
    """On-the-fly augmentation of the CNN's training faces (0: off)."""

    flip: bool
    shift: Annotated[float, SHARE]
    """Fraction of the image side."""
    rotation: Annotated[float, SHARE]
    """Fraction of a full turn."""
    zoom: Annotated[float, SHARE]
    brightness: Annotated[float, SHARE]
    """Fraction of the 0-255 range."""


@dataclass(frozen=True)
class CnnParams:
    """The reference CNN on raw 48x48 faces."""

    arch: Literal["vgg", "xception"]
    filters: Annotated[list[Annotated[int, Range(1)]], Items(1)]
    """One block (vgg) or residual module (xception) per entry."""
    dense_units: Annotated[int, Range(0)]
    dropout: Annotated[float, SHARE]
    epochs: Annotated[int, Range(1)]
    batch_size: Annotated[int, Range(1)]
    optimizer: Literal["adam", "sgd"]
    learning_rate: Annotated[float, POSITIVE]
    schedule: Literal["plateau", "cosine"]
    patience: Annotated[int, Range(1)]
    """Early stopping on validation loss; the best epoch is restored."""
    class_weight: ClassWeight
    augment: AugmentParams
    mask_prob: Annotated[float, Range(0, 1)]
    """Share of training faces masked on the fly (mask.styles, mask.height); 0: none."""
    concepts: ConceptSet | None
    """null: the plain CNN; a feature set: a concept bottleneck, one unit per measurement of the set between the body
    and a linear head, so that each answer is the sum of its concepts' terms (face_emotion.cnn.concepts)."""
    concept_weight: Annotated[float, Range(0)]
    """Weight of the concepts' loss (squared error against the measured values, standardised) beside the emotion's
    cross-entropy."""
    concept_training: Literal["joint", "sequential"]
    """joint: body, concepts and head trained together; sequential: body and concepts on the concepts' loss alone,
    then the head fitted on the frozen concepts."""

    def check(self, where: str) -> None:
        if self.arch == "vgg" and self.dense_units < 1:
            raise UserError(f"params: {where}.dense_units must be at least 1 for {where}.arch=vgg (its dense layer)")
        if self.concepts is not None and self.class_weight is not None:
            raise UserError(f"params: {where}.class_weight must be null with {where}.concepts (Keras weighs classes "
                            "only for a model with one output)")
        if self.concepts is not None and self.concept_training == "sequential" and self.concept_weight == 0:
            raise UserError(f"params: {where}.concept_weight must be above 0 with {where}.concept_training=sequential "
                            "(the concepts are then trained on their loss alone)")


MaskStyle = Literal["surgical_pleated", "surgical_flat", "cloth", "respirator"]
"""The synthetic mask styles (face_emotion.data.masking draws each)."""
MASK_STYLES: tuple[str, ...] = typing.get_args(MaskStyle)
MASK_HEIGHT = Range(0.2, 0.8)
"""Share of the face height a mask covers, from the chin up."""


@dataclass(frozen=True)
class MaskParams:
    """Synthetic masks over the lower face: what the CNN and the mask detector train with (drawn per image), and the
    two fixed styles every test face is scored with."""

    styles: Annotated[list[MaskStyle], Items(1, distinct=True)]
    """The styles training masks are drawn from."""
    height: Annotated[list[Annotated[float, MASK_HEIGHT]], Items(2)]
    """The range [low, high] training masks cover."""
    test_style: MaskStyle
    test_height: Annotated[float, MASK_HEIGHT]
    unseen_style: MaskStyle
    """A second test style that training never draws: do the models generalise to masks they have not seen?"""
    au_features: AboveMaskFeatureSet
    """What the masked-face AU model reads (the au_model family, trained on masked training faces)."""
    train_copies: Annotated[int, Range(1, 4)]
    """Masked copies of each training and validation face the masked-face AU model learns from, each its own mask."""

    def height_range(self) -> tuple[float, float]:
        """``height`` as (low, high)."""
        return self.height[0], self.height[1]

    def test_sets(self) -> dict[str, str]:
        """The masked test sets by name, each with its style: 'masked' (test_style), 'unseen_mask' (unseen_style)."""
        return {"masked": self.test_style, "unseen_mask": self.unseen_style}

    def check(self, where: str) -> None:
        if len(self.height) != 2 or self.height[0] > self.height[1]:
            raise UserError(f"params: {where}.height must be [low, high] with low <= high, got {self.height!r}")
        if self.unseen_style in self.styles:
            raise UserError(f"params: {where}.unseen_style {self.unseen_style!r} is one of {where}.styles, "
                            "so it would not be unseen")


@dataclass(frozen=True)
class EvaluateParams:
    """How the models are compared on the test split."""

    tta: bool
    """Also score the CNN's mean prediction of each test face and its mirror image (cnn_tta)."""


@dataclass(frozen=True)
class PracticeParams:
    """The practice page's decks: test faces the explaining models answer rightly, confidently and for a true cue."""

    faces_per_emotion: Annotated[int, Range(1, 200)]
    """Faces per emotion and level (whole faces, masked faces); fewer where fewer qualify."""
    min_confidence: Annotated[float, Range(0, 1)]
    """The explaining model's probability for the face's true emotion, at least."""
    round_length: Annotated[int, Range(1, 100)]
    """Faces per round of practice."""
    seed: int
    """Which of the qualifying faces the decks draw."""


@dataclass(frozen=True)
class ComputeParams:
    """How fast, not what: no stage lists these as parameters, so changing them reruns nothing."""

    au_workers: Annotated[int, Range(1)]
    """Processes measuring AUs in parallel."""
    dask_scheduler: str | None
    """null: a local process pool; 'local': a local Dask cluster of au_workers processes; else a scheduler address."""
    cnn_threads: Annotated[int, Range(0)]
    """TensorFlow threads; 0: the cores this process may use."""


@dataclass(frozen=True)
class Params:
    """All parameters of one experiment."""

    seed: int
    data: DataParams
    au: AuParams
    au_model: AuModelParams
    cnn: CnnParams
    mask: MaskParams
    evaluate: EvaluateParams
    practice: PracticeParams
    compute: ComputeParams

    SECTIONS: ClassVar[tuple[str, ...]] = ("seed", "data", "au", "au_model", "cnn", "mask", "evaluate", "practice",
                                           "compute")


def _type_name(annotation: Any) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list"}
    return names.get(typing.get_origin(annotation) or annotation, str(annotation))


def _value(annotation: Any, raw: Any, key: str, nullable: bool = False) -> Any:
    """``raw`` checked against ``annotation`` (with its constraints), or a one-line UserError naming ``key``;
    ``nullable``: inside ``X | None``, so errors say null is allowed too."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *constraints = typing.get_args(annotation)
        value = _value(base, raw, key)
        for constraint in constraints:
            constraint.check(key, value)
        return value
    if origin in (typing.Union, types.UnionType):
        members = typing.get_args(annotation)
        if raw is None and type(None) in members:
            return None
        schemas = [m for m in members if dataclasses.is_dataclass(m)]
        if schemas:
            return _tagged(schemas, raw, key)
        (member,) = [m for m in members if m is not type(None)]
        return _value(member, raw, key, nullable=type(None) in members)
    if origin is Literal:
        options = typing.get_args(annotation)
        if raw not in options:
            known = ", ".join([*map(str, options), *(["null"] if nullable else [])])
            raise UserError(f"params: unknown {key} {raw!r} (known: {known})")
        return raw
    if origin is list:
        (item,) = typing.get_args(annotation)
        if not isinstance(raw, list):
            raise UserError(f"params: {key} = {raw!r} is not a list")
        return [_value(item, v, f"{key}[{i}]") for i, v in enumerate(raw)]
    if dataclasses.is_dataclass(annotation):
        return _build(annotation, raw, key)
    numeric = isinstance(raw, (int, float)) and not isinstance(raw, bool)
    fits = {float: numeric, int: numeric and isinstance(raw, int), bool: isinstance(raw, bool), str: isinstance(raw, str)}
    if not fits[annotation]:
        raise UserError(f"params: {key} = {raw!r} is not {_type_name(annotation)}")
    return float(raw) if annotation is float else raw


def _tagged(schemas: list[type], raw: Any, key: str) -> Any:
    """Build the schema whose tag (its first field, e.g. ``backend``) matches ``raw``'s."""
    tag = dataclasses.fields(schemas[0])[0].name
    if not isinstance(raw, dict):
        raise UserError(f"params: {key} must be a mapping, got {raw!r}")
    by_tag = {typing.get_args(typing.get_type_hints(s)[tag])[0]: s for s in schemas}
    if raw.get(tag) not in by_tag:
        raise UserError(f"params: unknown {key}.{tag} {raw.get(tag)!r} (known: {', '.join(by_tag)})")
    return _build(by_tag[raw[tag]], raw, key)


def _build(cls: type, raw: Any, where: str) -> Any:
    """Dataclass ``cls`` from mapping ``raw``: every field present, no other key, each value of its type and range."""
    if not isinstance(raw, dict):
        raise UserError(f"params: {where} must be a mapping, got {raw!r}")
    fields = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise UserError(f"params: unknown key '{where}.{unknown[0]}'")
    missing = [name for name in fields if name not in raw]
    if missing:
        raise UserError(f"params: missing key '{where}.{missing[0]}'")
    hints = typing.get_type_hints(cls, include_extras=True)
    built = cls(**{name: _value(hints[name], raw[name], f"{where}.{name}") for name in fields})
    if hasattr(built, "check"):
        built.check(where)
    return built


def parse_section(annotation: Any, raw: Any, where: str) -> Any:
    """One section checked against its schema (``AuParams``, ``AuModelParams``, ...), e.g. as saved beside a model."""
    return _value(annotation, raw, where)


def parse_params(raw: Any) -> Params:
    """Validate a raw parameter mapping (what params.yaml holds) and return it typed."""
    if not isinstance(raw, dict):
        raise UserError("params: the file must hold a mapping")
    unknown = sorted(set(raw) - set(Params.SECTIONS))
    if unknown:
        raise UserError(f"params: unknown key '{unknown[0]}'")
    missing = [name for name in Params.SECTIONS if name not in raw]
    if missing:
        raise UserError(f"params: missing key '{missing[0]}'")
    hints = typing.get_type_hints(Params, include_extras=True)
    return Params(**{name: _value(hints[name], raw[name], name) for name in Params.SECTIONS})


def load_params(path: str | Path = PARAMS_FILE) -> Params:
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
    compose_and_dump(project_dir / PARAMS_FILE, str(project_dir / "conf"), None, "config", str(project_dir), [])
    return project_dir / PARAMS_FILE


def compose_conf(*overrides: str, conf_dir: str | Path = CONF_DIR) -> dict:
    """The raw parameters Hydra composes from ``conf_dir`` with ``overrides`` (``cnn=vgg``, ``au_model.C=0.1``):
    what ``dvc exp run -S`` would write to params.yaml."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf

    try:
        with initialize_config_dir(config_dir=str(Path(conf_dir).resolve()), version_base=None):
            return OmegaConf.to_container(compose(config_name="config", overrides=list(overrides)))
    except HydraException as exc:
        raise UserError(f"params: {str(exc).splitlines()[0]}") from exc

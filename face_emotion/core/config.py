"""The experiment's parameters: ``params.yaml`` (composed from ``conf/`` by DVC's Hydra support) read into typed
schemas that check themselves and name the key at fault. Every default lives in conf/; nothing here has one.

The schemas are pydantic dataclasses: a field's constraints sit beside it (``Annotated[StrictFloat, Gt(0)]`` is a
positive number, ``Literal[...]`` a closed choice), a union of schemas (``au``, ``au_model``, ``data``) is chosen by
its tag (``backend``, ``kind``), and a rule between fields is a ``__post_init__`` that calls ``refuse``. Values are
strict (no 'yes' for true, no 3.5 epochs); pydantic's first complaint becomes one line naming the key.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import yaml
from annotated_types import Ge, Gt, Interval
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from face_emotion.core.errors import UserError
from face_emotion.core.facs import EMOTIONS

PARAMS_FILE = "params.yaml"
"""The composed parameters every stage reads (dvc exp run writes it from conf/)."""

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
"""The project's Hydra configuration, whatever the working directory."""

RULE = "params_rule"
"""The pydantic error type of a rule between fields (``refuse``): its message is said as it is."""


def schema(cls: type) -> type:
    """A frozen pydantic dataclass that refuses keys it does not name."""
    return dataclass(frozen=True, config=ConfigDict(extra="forbid"))(cls)


def refuse(text: str) -> NoReturn:
    """Refuse a value with ``text`` (in a schema's ``__post_init__`` or a validator): said after the key at fault."""
    raise PydanticCustomError(RULE, "{text}", {"text": text})


def _distinct(items: list) -> list:
    repeated = next((item for i, item in enumerate(items) if item in items[:i]), None)
    if repeated is not None:
        refuse(f"lists {repeated!r} twice; each item once")
    return items


DISTINCT = AfterValidator(_distinct)
POSITIVE = Gt(0)
PROBABILITY = Interval(ge=0, le=1)
SHARE = Interval(ge=0, lt=1)
"""0 (none) up to, not including, 1 (all)."""
SEED = Interval(ge=0, le=2**32 - 1)
"""What numpy, scikit-learn and Keras all take as a seed."""
OPEN_SHARE = Interval(gt=0, lt=1)
Emotion = Literal[EMOTIONS]
Classes = Annotated[list[Emotion], Field(min_length=2), DISTINCT]
FeatureSet = Literal["au17", "au17_pairs", "blendshapes", "both", "au17_geometry", "au17_geometry_blendshapes",
                     "au17_pairs_geometry", "au17_pairs_geometry_blendshapes", "upper_face",
                     "upper_face_geometry_blendshapes"]
"""The AU-table columns an AU model reads (face_emotion.core.feature_sets defines each)."""
AboveMaskFeatureSet = Literal["upper_face", "upper_face_geometry_blendshapes"]
"""The feature sets that name only what a mask leaves visible."""
ConceptSet = Literal["au17", "au17_geometry"]
"""The feature sets a concept-bottleneck CNN may predict: named measurements only (no products, no blendshapes)."""
ClassWeight = Literal["balanced"] | None
ClassBias = Literal["macro_f1"] | None
"""cnn.class_bias: offsets per emotion chosen on validation for macro-F1 (face_emotion.cnn.class_bias), or none."""


@schema
class ImageData:
    """Face images in the Kaggle FER2013 layout: <root>/{train,test}/<class>/*."""

    kind: Literal["images"]
    root: StrictStr
    classes: Classes
    val_fraction: Annotated[StrictFloat, SHARE]
    """Stratified share of train held out for validation."""
    max_per_class: Annotated[StrictInt, Ge(1)] | None
    """Cap on usable images per class and split (null: all)."""


@schema
class AuTableData:
    """A CSV of AU intensities with a label column (OpenFace output made elsewhere); no images."""

    kind: Literal["au_table"]
    root: StrictStr
    classes: Classes
    val_fraction: Annotated[StrictFloat, SHARE]
    max_per_class: Annotated[StrictInt, Ge(1)] | None
    label_column: StrictStr
    label_codes: Annotated[list[StrictStr], Field(min_length=2), DISTINCT]
    """The label column's codes 0, 1, ... in order, as class names."""
    group_column: StrictStr | None
    """Rows sharing a value of this column (a video, a subject) stay in one split (null: rows are independent)."""
    test_fraction: Annotated[StrictFloat, OPEN_SHARE]
    """Random (not stratified) test hold-out, the original project's protocol."""
    reference_model: StrictStr | None
    reference_accuracy: Annotated[StrictFloat, PROBABILITY] | None


@schema
class OpenFaceVideosData:
    """OpenFace FeatureExtraction CSVs of labelled videos, <root>/<class>/<video>.csv (a row per frame); no images.
    A video's frames stay in one split."""

    kind: Literal["openface_videos"]
    root: StrictStr
    classes: Classes
    val_fraction: Annotated[StrictFloat, SHARE]
    """Share of the training videos held out for validation (whole videos)."""
    max_per_class: Annotated[StrictInt, Ge(1)] | None
    """Cap on usable frames per class and split (null: all)."""
    test_fraction: Annotated[StrictFloat, OPEN_SHARE]
    """Share of the videos held out for testing (whole videos, stratified by class)."""
    frame_step: Annotated[StrictInt, Ge(1)]
    """Every frame_step-th frame of a video is used (neighbouring frames are near copies)."""


@schema
class VideoData:
    """Labelled video files, <root>/<class>/<video>: the face of every frame_step-th frame is found by MediaPipe and
    cropped as FER2013 faces are, and the crops are the data's face images. A video's frames stay in one split."""

    kind: Literal["videos"]
    root: StrictStr
    classes: Classes
    val_fraction: Annotated[StrictFloat, SHARE]
    """Share of the training videos held out for validation (whole videos)."""
    max_per_class: Annotated[StrictInt, Ge(1)] | None
    """Cap on usable frames per class and split (null: all)."""
    test_fraction: Annotated[StrictFloat, OPEN_SHARE]
    """Share of the videos held out for testing (whole videos, stratified by class)."""
    frame_step: Annotated[StrictInt, Ge(1)]
    """Every frame_step-th frame of a video is used (neighbouring frames are near copies)."""


DataParams = Annotated[ImageData | AuTableData | OpenFaceVideosData | VideoData, Field(discriminator="kind")]
FaceImageData = ImageData | VideoData
"""Data whose faces are images: the CNN, the mask detector and the masked comparison need them."""


@schema
class MediaPipeParams:
    """MediaPipe FaceLandmarker blendshapes and landmarks mapped to OpenFace AU intensities (offline)."""

    backend: Literal["mediapipe"]
    pad: Annotated[StrictInt, Ge(0)]
    """Grey border (px) around a tight 48x48 face crop before detection."""
    size: Annotated[StrictInt, Ge(64)]
    """Side (px) the padded crop is upscaled to."""
    min_confidence: Annotated[StrictFloat, PROBABILITY]
    """Face detection and presence confidence."""
    rescue_confidence: Annotated[StrictFloat, PROBABILITY] | None
    """A tight crop found by no view is searched again at this lower confidence, in other framings (masked faces);
    null: not searched again."""
    mirror: StrictBool
    """Also measure the mirror image and average the two (steadier, twice the time)."""

    def __post_init__(self) -> None:
        if self.rescue_confidence is not None and self.rescue_confidence >= self.min_confidence:
            refuse(f"rescue_confidence ({self.rescue_confidence}) must be below min_confidence "
                   f"({self.min_confidence}): it searches again only what that missed")


@schema
class OpenFaceParams:
    """OpenFace 2.x FaceLandmarkImg in Docker."""

    backend: Literal["openface"]
    image: StrictStr
    """The Docker image; its local content digest is part of the AU cache key. Pin one: name@sha256:<digest>."""
    memory_gb: Annotated[StrictFloat, POSITIVE]
    """The container's memory limit."""
    cpus: Annotated[StrictFloat, POSITIVE]
    """The container's CPU limit."""


@schema
class OpenFaceCsvParams:
    """OpenFace CSVs made elsewhere."""

    backend: Literal["openface_csv"]
    csv_dir: StrictStr | None
    """One FaceLandmarkImg CSV per image, named <image stem>.csv (null: the data is an AU table)."""


AuParams = Annotated[MediaPipeParams | OpenFaceParams | OpenFaceCsvParams, Field(discriminator="backend")]


@schema
class LinearModelParams:
    """Multinomial logistic regression on standardised AU features."""

    kind: Literal["linear"]
    features: FeatureSet
    C: Annotated[StrictFloat, POSITIVE]
    """Inverse regularisation strength."""
    l1_ratio: Annotated[StrictFloat, PROBABILITY]
    """0: l2 penalty; 1: l1 (sparse profiles); between: elastic net."""
    class_weight: ClassWeight


@schema
class AdditiveModelParams:
    """A glass-box additive model: a piecewise-linear curve per feature and emotion through quantile knots."""

    kind: Literal["additive"]
    features: FeatureSet
    knots: Annotated[StrictInt, Ge(2)]
    C: Annotated[StrictFloat, POSITIVE]
    class_weight: ClassWeight


@schema
class PairwiseModelParams:
    """A glass-box pairwise model (GA2M): terms of one feature or a pair, from boosted depth-2 trees."""

    kind: Literal["pairwise"]
    features: FeatureSet
    rounds: Annotated[StrictInt, Ge(1)]
    learning_rate: Annotated[StrictFloat, POSITIVE]
    class_weight: ClassWeight


@schema
class EbmModelParams:
    """InterpretML's Explainable Boosting Machine (a GA2M): a shape function per feature and for a few chosen pairs."""

    kind: Literal["ebm"]
    features: FeatureSet
    interactions: Annotated[StrictInt, Ge(0)]
    """Pair terms, found by FAST in the order of their gain; 0: main effects only."""
    max_bins: Annotated[StrictInt, Ge(3)]
    """Bins of a feature's shape function."""
    max_interaction_bins: Annotated[StrictInt, Ge(3)]
    """Bins per feature of a pair term."""
    outer_bags: Annotated[StrictInt, Ge(1)]
    """Bagged fits averaged into the model (more: smoother shapes, slower)."""
    class_weight: ClassWeight
    """balanced: each class weighs as much in the fit (as sample weights)."""


AuModelParams = Annotated[LinearModelParams | AdditiveModelParams | PairwiseModelParams | EbmModelParams,
                          Field(discriminator="kind")]


@schema
class AugmentParams:
    """On-the-fly augmentation of the CNN's training faces (0: off)."""

    flip: StrictBool
    shift: Annotated[StrictFloat, SHARE]
    """Fraction of the image side."""
    rotation: Annotated[StrictFloat, SHARE]
    """Fraction of a full turn."""
    zoom: Annotated[StrictFloat, SHARE]
    brightness: Annotated[StrictFloat, SHARE]
    """Fraction of the 0-255 range."""


@schema
class CnnParams:
    """The reference CNN on raw 48x48 faces."""

    arch: Literal["vgg", "xception"]
    filters: Annotated[list[Annotated[StrictInt, Ge(1)]], Field(min_length=1)]
    """One block (vgg) or residual module (xception) per entry."""
    dense_units: Annotated[StrictInt, Ge(0)]
    dropout: Annotated[StrictFloat, SHARE]
    epochs: Annotated[StrictInt, Ge(1)]
    batch_size: Annotated[StrictInt, Ge(1)]
    optimizer: Literal["adam", "sgd"]
    learning_rate: Annotated[StrictFloat, POSITIVE]
    schedule: Literal["plateau", "cosine"]
    patience: Annotated[StrictInt, Ge(1)]
    """Early stopping on validation loss; the best epoch is restored."""
    class_weight: ClassWeight
    augment: AugmentParams
    mask_prob: Annotated[StrictFloat, PROBABILITY]
    """Share of training faces masked on the fly (mask.styles, mask.height); 0: none."""
    concepts: ConceptSet | None
    """null: the plain CNN; a feature set: a concept bottleneck, one unit per measurement of the set between the body
    and a linear head, so that each answer is the sum of its concepts' terms (face_emotion.cnn.concepts)."""
    concept_weight: Annotated[StrictFloat, Ge(0)]
    """Weight of the concepts' loss (squared error against the measured values, standardised) beside the emotion's
    cross-entropy."""
    concept_training: Literal["joint", "sequential"]
    """joint: body, concepts and head trained together; sequential: body and concepts on the concepts' loss alone,
    then the head fitted on the frozen concepts."""
    class_bias: ClassBias
    """null: the emotion layer's biases as trained; macro_f1: one offset per emotion added to them, chosen on the
    validation faces to raise macro-F1 without lowering accuracy, kept where they also raised it on held-out halves of
    those faces (face_emotion.cnn.class_bias)."""
    seed: Annotated[StrictInt, SEED] | None
    """null: the experiment's seed; an integer: the seed of every random draw of the CNN's training instead (weights,
    order, augmentation, masks), the split kept, so two runs differ by chance alone."""

    def __post_init__(self) -> None:
        if self.arch == "vgg" and self.dense_units < 1:
            refuse("dense_units must be at least 1 for arch=vgg (its dense layer)")
        if self.concepts is not None and self.class_weight is not None:
            refuse("class_weight must be null with concepts (Keras weighs classes only for a model with one output)")
        if self.concepts is not None and self.concept_training == "sequential" and self.concept_weight == 0:
            refuse("concept_weight must be above 0 with concept_training=sequential (the concepts are then trained "
                   "on their loss alone)")


MaskStyle = Literal["surgical_pleated", "surgical_flat", "cloth", "respirator"]
"""The synthetic mask styles (face_emotion.data.masking draws each)."""
MASK_STYLES: tuple[str, ...] = typing.get_args(MaskStyle)
MASK_HEIGHT = Interval(ge=0.2, le=0.8)
"""Share of the face height a mask covers, from the chin up."""


@schema
class MaskParams:
    """Synthetic masks over the lower face: what the CNN and the mask detector train with (drawn per image), and the
    two fixed styles every test face is scored with."""

    styles: Annotated[list[MaskStyle], Field(min_length=1), DISTINCT]
    """The styles training masks are drawn from."""
    height: Annotated[list[Annotated[StrictFloat, MASK_HEIGHT]], Field(min_length=2, max_length=2)]
    """The range [low, high] training masks cover."""
    test_style: MaskStyle
    test_height: Annotated[StrictFloat, MASK_HEIGHT]
    unseen_style: MaskStyle
    """A second test style that training never draws: do the models generalise to masks they have not seen?"""
    au_features: AboveMaskFeatureSet
    """What the masked-face AU model reads (the au_model family, trained on masked training faces)."""
    train_copies: Annotated[StrictInt, Interval(ge=1, le=4)]
    """Masked copies of each training and validation face the masked-face AU model learns from, each its own mask."""

    def height_range(self) -> tuple[float, float]:
        """``height`` as (low, high)."""
        return self.height[0], self.height[1]

    def test_sets(self) -> dict[str, str]:
        """The masked test sets by name, each with its style: 'masked' (test_style), 'unseen_mask' (unseen_style)."""
        return {"masked": self.test_style, "unseen_mask": self.unseen_style}

    def __post_init__(self) -> None:
        if self.height[0] > self.height[1]:
            refuse(f"height must be [low, high] with low <= high, got {self.height!r}")
        if self.unseen_style in self.styles:
            refuse(f"unseen_style {self.unseen_style!r} is one of styles, so it would not be unseen")


@schema
class EvaluateParams:
    """How the models are compared on the test split."""

    tta: StrictBool
    """Also score the CNN's mean prediction of each test face and its mirror image (cnn_tta)."""


@schema
class PracticeParams:
    """The practice page's decks: test faces the explaining models answer rightly, confidently and for a true cue."""

    faces_per_emotion: Annotated[StrictInt, Interval(ge=1, le=200)]
    """Faces per emotion and level (whole faces, masked faces); fewer where fewer qualify."""
    min_confidence: Annotated[StrictFloat, PROBABILITY]
    """The explaining model's probability for the face's true emotion, at least."""
    round_length: Annotated[StrictInt, Interval(ge=1, le=100)]
    """Faces per round of practice."""
    seed: Annotated[StrictInt, SEED]
    """Which of the qualifying faces the decks draw."""


@schema
class ComputeParams:
    """How fast, not what: no stage lists these as parameters, so changing them reruns nothing."""

    au_workers: Annotated[StrictInt, Ge(1)]
    """Processes measuring AUs in parallel."""
    dask_scheduler: StrictStr | None
    """null: a local process pool; 'local': a local Dask cluster of au_workers processes; else a scheduler address."""
    cnn_threads: Annotated[StrictInt, Ge(0)]
    """TensorFlow threads; 0: the cores this process may use."""


@schema
class Params:
    """All parameters of one experiment."""

    seed: Annotated[StrictInt, SEED]
    data: DataParams
    au: AuParams
    au_model: AuModelParams
    cnn: CnnParams
    mask: MaskParams
    evaluate: EvaluateParams
    practice: PracticeParams
    compute: ComputeParams

    @property
    def cnn_seed(self) -> int:
        """The seed the CNN trains with: cnn.seed, else the experiment's."""
        return self.seed if self.cnn.seed is None else self.cnn.seed

    def __post_init__(self) -> None:
        if isinstance(self.data, FaceImageData) and self.data.val_fraction == 0:
            refuse("data.val_fraction must be above 0 for images: the CNN stops early on the validation split")


def _key(where: str, loc: tuple[str | int, ...], raw: Any) -> str:
    """The dotted key of pydantic's error location ``loc`` in ``raw`` ('cnn.filters[0]'), below ``where``; the tag a
    union member is named by in ``loc`` (its member's 'ebm') is left out."""
    parts, node = [where] if where else [], raw
    for part in loc:
        if isinstance(part, int):
            parts[-1] += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
        elif isinstance(node, dict) and part not in node and part in node.values():
            continue
        else:
            parts.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


def _one_line(error: ValidationError, raw: Any, where: str) -> UserError:
    """pydantic's first complaint about ``raw`` as one line naming the key."""
    first = error.errors(include_url=False)[0]
    key = _key(where, first["loc"], raw)
    if first["type"] in ("missing", "missing_argument"):
        return UserError(f"params: missing key '{key}'")
    if first["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return UserError(f"params: unknown key '{key}'")
    if first["type"] == "union_tag_invalid":  # ctx quotes the tag's name and the known tags
        ctx = first["ctx"]
        tag = ctx["discriminator"].strip("'")
        return UserError(f"params: unknown {key}.{tag} {ctx['tag']!r} (known: {ctx['expected_tags']})")
    said = first["msg"] if first["type"] == RULE else first["msg"][:1].lower() + first["msg"][1:]
    got = "" if first["type"] == RULE or isinstance(first["input"], dict) else f", got {first['input']!r}"
    return UserError(f"params: {key + ': ' if key else ''}{said}{got}")


def parse_section(annotation: Any, raw: Any, where: str) -> Any:
    """One section checked against its schema (``AuParams``, ``AuModelParams``, ...), e.g. as saved beside a model."""
    try:
        return TypeAdapter(annotation).validate_python(raw)
    except ValidationError as exc:
        raise _one_line(exc, raw, where) from None


def parse_params(raw: Any) -> Params:
    """Validate a raw parameter mapping (what params.yaml holds) and return it typed."""
    if not isinstance(raw, dict):
        raise UserError("params: the file must hold a mapping")
    return parse_section(Params, raw, "")


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

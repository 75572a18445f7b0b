"""Predicting emotions for every face in photos and videos with a model folder the pipeline wrote (AU model or CNN):
one row per face (per analysed frame of a video), the AU model's reasons in words and drawn on the face."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from face_emotion import au_models
from face_emotion.au.backends.mediapipe import MediaPipeBackend
from face_emotion.au.video import VideoMeasurer
from face_emotion.au_models.base import AuModel
from face_emotion.cnn import concepts as concept_model
from face_emotion.cnn import mask_detector
from face_emotion.cnn import model as cnn
from face_emotion.core.companions import MASK_DETECTOR, MASKED_FACES_MODEL, SURROGATE, companion
from face_emotion.core.config import AuParams, MediaPipeParams, parse_section
from face_emotion.core.errors import UserError
from face_emotion.core.feature_sets import feature_rows
from face_emotion.core.io import atomic_path, read_json
from face_emotion.core.lifetime import end_with_parent
from face_emotion.core.tables import AU_COLUMNS, AU_PRESENCE_COLUMNS, AU_PRESENT_FROM
from face_emotion.data.images import ImageRejected, is_image_name, read_image, to_gray_face
from face_emotion.data.video import Frame, VideoRejected, ended_early, is_video_name, open_video, read_frames
from face_emotion.explain.drawing import FaceToDraw, draw_reasons
from face_emotion.explain.figures import timeline_figure
from face_emotion.explain.reasons import MOUTH_HIDDEN, RegionReason, reasoned
from face_emotion.faces.finder import finding_settings
from face_emotion.faces.found import FoundFace, is_tight_crop

BOX_COLUMNS = ("box_left", "box_top", "box_right", "box_bottom")
PARALLEL_FROM = 64
"""Images are located (faces found and measured) in worker processes, one per core, when there are this many."""
CLASSIFY_BATCH = 64
"""A video's faces are classified by the AU model this many at a time."""
ANNOTATION_PNG_COMPRESSION = 1
"""zlib level of the --annotate pictures: half the time of Pillow's default (6) for files about 10-20 % larger."""


def check_output(output: Path, inputs: list[Path]) -> None:
    """A one-line UserError, before any prediction, unless ``output`` is a CSV that can be written and is none of
    the inputs: predict never overwrites a user's photo."""
    if output.suffix.lower() != ".csv":
        raise UserError(f"--output {output} must be a .csv file (predict writes one row per face there)")
    if output.is_dir():
        raise UserError(f"--output {output} is a folder; name a .csv file")
    if any(path.exists() and output.exists() and path.samefile(output) for path in inputs):
        raise UserError(f"--output {output} is one of the inputs; choose another file")
    folder = output.parent
    if not folder.is_dir():
        raise UserError(f"--output {output}: folder {folder} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{output.name}.", suffix=".tmp"):
            pass
    except OSError as exc:
        raise UserError(f"--output {output} cannot be written ({exc.strerror})") from None


def input_files(inputs: list[str]) -> list[Path]:
    """Named files as given (whatever their extension), and image and video files found recursively in named
    folders."""
    files: list[Path] = []
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and (is_image_name(p) or is_video_name(p)))
        else:
            files.append(path)
    return files


def path_text(path: Path) -> str:
    """The path as the CSV writes it: as it is, or, for a name that is not valid UTF-8, with those bytes escaped
    (caf\\xe9.jpg), so the row is written instead of the whole table failing."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, which Python holds as lone surrogates
        return os.fsencode(path).decode("utf-8", errors="backslashreplace")
    return text


@dataclass
class FaceAnswer:
    """What predict says about one face (or, without ``emotion``, why it says nothing)."""

    reason: str = ""
    face_id: int | None = None
    box: tuple[int, int, int, int] | None = None
    emotion: str = ""
    probabilities: np.ndarray | None = None
    au_reasons: str = ""
    regions: list[RegionReason] | None = None
    """The reasons by face region (a readable model's answer), to draw."""
    face: FoundFace | None = None
    au_values: dict[str, object] = field(default_factory=dict)
    measurement: dict[str, object] | None = None
    """An AU-table row still to be classified (AuPredictor.complete classifies many at once)."""
    crop: np.ndarray | None = None
    """The face as 48x48 grayscale, the mask detector's input."""
    masked: bool | None = None
    """Whether the mask detector sees the lower face covered (None: not checked)."""
    surrogate_agrees: bool | None = None
    """Whether a black box's AU surrogate gives the same answer (None: no surrogate, or the face not measured)."""


CnnFace = tuple[tuple[int, int, int, int], np.ndarray, str, dict[str, object], FoundFace | None]
"""A face located for the CNN: its box, its 48x48 grayscale crop, a note for its row, its measurement (an AU-table row,
made only when asked for: predict --aus, or an AU surrogate to answer), the face MediaPipe found (None: a face crop it
finds no face in), to draw on."""
UNCONFIRMED_CROP = "no face found by MediaPipe: classified as a face crop"
"""The note on a tight face crop (FER2013 size) that the CNN answers although MediaPipe finds no face in it."""
MASKED_NOTE = "lower face covered by a mask: the AU model cannot see the mouth, so its answer is less sure"
"""The note on an AU model's answer for a face the mask detector sees masked, where no masked-face AU model is."""
ROUTED_NOTE = "lower face covered by a mask: answered by the masked-face AU model, from brows, eyes and cheeks"
"""The note on the masked-face AU model's answer."""
SURROGATE_PREFIX = "AU surrogate: "
"""Begins a plain CNN's au_reasons: they are its AU surrogate's reasons for the surrogate's own answer."""
CONCEPT_ROUTED_NOTE = "lower face covered by a mask: answered by the CNN's head of masked faces, from brows, eyes and cheeks"
"""The note on a concept CNN's answer from its head of masked faces."""
CONCEPT_MASKED_NOTE = "lower face covered by a mask: the CNN reads the mouth's concepts from the mask"
"""The note on a concept CNN's answer for a face seen masked, where the model has no head of masked faces."""


@dataclass(frozen=True)
class PredictOptions:
    """How predict goes through the inputs: reasons drawn into ``annotate`` (a folder), every ``frame_step``-th
    frame of a video analysed, probabilities averaged over ``smooth`` analysed frames of a face, at most ``max_faces``
    faces per image or frame."""

    annotate: Path | None = None
    frame_step: int = 1
    smooth: int = 1
    max_faces: int = 8
    aus: bool = False
    """Add each face's AU intensities (AU01_r ...) and presence (AU01_c ...) to its row."""


def measured_aus(row: dict[str, object] | None) -> dict[str, object]:
    """The AU intensities of a face's measurement and what could not be measured (empty when it was not measured)."""
    if not row or not row.get("success"):
        return {}
    return {**{column: float(row[column]) for column in AU_COLUMNS if column in row},  # type: ignore[arg-type]
            "unmeasured": row.get("unmeasured", "")}


def au_columns(values: dict[str, object]) -> dict[str, object]:
    """A row's AU columns, as OpenFace names them: each intensity (0-5) and whether the AU is present (1 from
    AU_PRESENT_FROM on); empty where the face was not measured, or the AU's region lies outside the image (then
    ``unmeasured`` says so)."""
    intensities = {column: float(values.get(column, np.nan)) for column in AU_COLUMNS}  # type: ignore[arg-type]
    presence = {present: (int(value >= AU_PRESENT_FROM) if np.isfinite(value) else None)
                for present, value in zip(AU_PRESENCE_COLUMNS, intensities.values(), strict=True)}
    return intensities | presence | {"unmeasured": values.get("unmeasured", "")}


class _MediaPipePredictor:
    """A predictor that measures faces with MediaPipe: use it in a ``with`` block, which closes the landmarker
    (left open, MediaPipe prints a traceback when the interpreter exits)."""

    backend: MediaPipeBackend
    settings: MediaPipeParams
    classes: list[str]
    mask_detector: object | None = None
    """The Keras mask detector (None: the masked column stays empty)."""
    no_mask_detector: str = ""
    """Why there is no mask detector."""
    measures: bool = True
    """Whether every face is measured (its AUs), asked for or not."""
    surrogate: AuModel | None = None
    """A black-box model's AU surrogate, whose reasons its answers carry (None: none)."""

    def __enter__(self) -> _MediaPipePredictor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.backend.__exit__(exc_type, exc, tb)

    def video_measurer(self) -> VideoMeasurer:
        """A tracker for one video's frames, measuring faces as this predictor does."""
        return VideoMeasurer(self.settings, self.backend.finder.max_faces)

    def complete(self, answers: list[FaceAnswer]) -> list[FaceAnswer]:
        """The answers with every pending measurement classified (all at once: much faster than one by one)."""
        return answers

    def model_for(self, answer: FaceAnswer) -> AuModel | None:
        """The readable model behind an answer's reasons (None: the answer has none)."""
        return None

    def drawing(self, image: Image.Image, answers: list[FaceAnswer]) -> Image.Image | None:
        """The image with the regions behind each answer drawn on its face (None when no face can be drawn)."""
        faces = [FaceToDraw(answer.face.points, f"{answer.emotion} ({float(np.max(answer.probabilities)):.2f})",
                            answer.regions)
                 for answer in answers if answer.face is not None and answer.regions is not None]
        return draw_reasons(image, faces) if faces else None

    def mark_masked(self, answers: list[FaceAnswer]) -> list[FaceAnswer]:
        """The answers with ``masked`` set for each face crop, by the mask detector (all at once)."""
        cropped = [i for i, answer in enumerate(answers) if answer.crop is not None]
        if self.mask_detector is None or not cropped:
            return answers
        masked = mask_detector.is_masked(self.mask_detector, np.stack([answers[i].crop for i in cropped])[..., None])
        marked = list(answers)
        for i, is_masked in zip(cropped, masked, strict=True):
            marked[i] = dataclasses.replace(answers[i], masked=bool(is_masked))
        return marked


class AuPredictor(_MediaPipePredictor):
    """The explainable model: MediaPipe AUs measured as for its training faces, the model, the AUs behind each answer."""

    def __init__(self, model_dir: Path, max_faces: int) -> None:
        self.model = au_models.load(model_dir)
        settings_file = model_dir / au_models.AU_SETTINGS_FILE
        settings = parse_section(AuParams, read_json(settings_file, "train_au_model"), str(settings_file))
        if not isinstance(settings, MediaPipeParams):
            raise UserError(f"{model_dir} was trained on '{settings.backend}' AUs; predict measures faces with "
                            "MediaPipe only")
        self.settings = settings
        self.masked_model = load_masked_model(model_dir, self.model.classes)
        self.backend = MediaPipeBackend(settings, max_faces=max_faces)
        self.classes = self.model.classes

    def model_for(self, answer: FaceAnswer) -> AuModel:
        """The AU model that answers a face: the masked-face one for a face the detector sees masked, if there is one."""
        return self.masked_model if answer.masked and self.masked_model is not None else self.model

    @staticmethod
    def locate(backend: MediaPipeBackend, image: Image.Image, aus: bool = False) -> list[FaceAnswer]:
        """Every face in the image, measured (``aus`` or not: the AU model needs it) and boxed, not yet classified
        (none found: an empty list); a tight face crop is checked for a mask even when MediaPipe finds no face in it."""
        whole = (0, 0, image.width, image.height)
        if is_tight_crop(image):
            found = backend.measure_faces(image)
            if not found:
                return [FaceAnswer(reason="no face found", box=whole, crop=to_gray_face(image))]
            return [FaceAnswer(box=whole, face=face, measurement=row, crop=to_gray_face(image)) for face, row in found]
        return [FaceAnswer(box=face.box(), face=face, measurement=row, crop=to_gray_face(image.crop(face.box())))
                for face, row in backend.measure_faces(image)]

    def answer(self, located: list[FaceAnswer]) -> list[FaceAnswer]:
        return self.complete(located)

    def predict_frame(self, measurer: VideoMeasurer, frame: Frame) -> list[FaceAnswer]:
        """Every face in the frame, measured; ``complete`` classifies them."""
        image = Image.fromarray(frame.rgb)
        return [FaceAnswer(face_id=face_id, box=face.box(), face=face, measurement=row,
                           crop=to_gray_face(image.crop(face.box()))) for face_id, face, row in measurer.measure(frame)]

    def complete(self, answers: list[FaceAnswer]) -> list[FaceAnswer]:
        answers = self.mark_masked(answers)
        done = [dataclasses.replace(answer, measurement=None, reason=str(answer.measurement["failure_reason"]))
                if answer.measurement is not None else answer for answer in answers]
        measured = [i for i, answer in enumerate(answers) if answer.measurement is not None and answer.measurement["success"]]
        for model in dict.fromkeys(self.model_for(answers[i]) for i in measured):
            mine = [i for i in measured if self.model_for(answers[i]) is model]
            routed = model is not self.model
            rows = [answers[i].measurement or {} for i in mine]
            for i, row, found in zip(mine, rows, reasoned(model, feature_rows(rows, model.features_)), strict=True):
                done[i] = dataclasses.replace(
                    done[i], emotion=found.emotion, probabilities=found.probabilities, au_values=measured_aus(row),
                    reason=ROUTED_NOTE if routed else MASKED_NOTE if done[i].masked else "",
                    au_reasons=found.text + (MOUTH_HIDDEN if routed else ""), regions=found.regions)
        return done


def load_masked_model(model_dir: Path, classes: list[str]) -> AuModel | None:
    """The masked-face AU model the AU model's folder names (None where it names none, or there is none yet); one of
    other classes is a one-line error."""
    folder = companion(model_dir, MASKED_FACES_MODEL)
    if folder is None or not (folder / au_models.MODEL_FILE).is_file():
        return None
    model = au_models.load(folder, "train_upper_face_au_model")
    if model.classes != classes:
        raise UserError(f"{folder} predicts {', '.join(model.classes)}, {model_dir} {', '.join(classes)}: retrain both "
                        "with 'make run'")
    return model


class CnnPredictor(_MediaPipePredictor):
    """The CNN: each face found and cropped the way FER2013 faces look, then 48x48 grayscale; a concept CNN's answers
    come with the reasons its head reads from the concepts it sees."""

    def __init__(self, model_dir: Path, max_faces: int) -> None:
        info = cnn.check_role(model_dir, cnn.EMOTION_ROLE, "train_cnn")
        self.classes = info["classes"]
        self.model = cnn.load(model_dir)
        self.concepts = self.head = self.masked_head = None
        if cnn.is_concept_model(self.model):
            self.concepts = concept_model.Concepts.from_info(info)
            self.head = concept_model.head(self.model, self.concepts, self.classes, info["concept_set"])
            self.masked_head = concept_model.masked_head_from_info(info)
        self.surrogate = load_surrogate(model_dir, self.classes) if self.head is None else None
        self.measures = self.surrogate is not None
        self.settings = finding_settings()
        self.backend = MediaPipeBackend(self.settings, max_faces=max_faces)

    @staticmethod
    def locate(backend: MediaPipeBackend, image: Image.Image, aus: bool = False) -> list[CnnFace]:
        """Every face in the image, boxed and cropped to 48x48 grayscale (none found: an empty list), with its AUs
        measured when ``aus``; a tight face crop is its own box."""
        if is_tight_crop(image):  # the CNN's own input: answered even when MediaPipe finds no face in it
            whole = (0, 0, image.width, image.height)
            measured = backend.measure_faces(image) if aus else []
            face = measured[0][0] if measured else None if aus else next(iter(backend.finder.faces(image)), None)
            note = "" if measured or face is not None else UNCONFIRMED_CROP
            return [(whole, to_gray_face(image), note, measured[0][1] if measured else {}, face)]
        if aus:
            return [(face.box(), to_gray_face(image.crop(face.box())), "", row, face)
                    for face, row in backend.measure_faces(image)]
        return [(face.box(), to_gray_face(image.crop(face.box())), "", {}, face) for face in backend.finder.every_face(image)]

    def answer(self, located: list[CnnFace]) -> list[FaceAnswer]:
        """The CNN's answer for each located face; a concept CNN's with its reasons, from its head of masked faces
        for a face the mask detector sees masked."""
        if not located:
            return []
        faces = np.stack([crop for _, crop, _, _, _ in located])[..., None].astype(np.float32)
        # each face with its mirror image in one compiled call (~3 ms; an eager one ~40), averaged: cnn_tta in evaluate
        both = self.model.predict_on_batch(np.concatenate([faces, faces[:, :, ::-1]]))
        answers = self.mark_masked([FaceAnswer(box=box, reason=note, crop=crop, au_values=measured_aus(row), face=face)
                                    for box, crop, note, row, face in located])
        if self.head is None:
            both = np.asarray(both)
            answers = [dataclasses.replace(answer, emotion=self.classes[int(p.argmax())], probabilities=p)
                       for answer, p in zip(answers, (both[: len(faces)] + both[len(faces):]) / 2, strict=True)]
            return self.surrogate_reasons(answers, [row for _, _, _, row, _ in located])
        concepts = np.asarray(both[cnn.CONCEPTS_OUTPUT]).reshape(2, len(faces), -1).mean(axis=0)
        return [self.explained(answer, row) for answer, row in zip(answers, concepts, strict=True)]

    def surrogate_reasons(self, answers: list[FaceAnswer], rows: list[dict[str, object]]) -> list[FaceAnswer]:
        """A plain CNN's answers with its AU surrogate's reasons and whether the surrogate agrees, for each measured
        face (unchanged without a surrogate)."""
        measured = [i for i, row in enumerate(rows) if row.get("success")]
        if self.surrogate is None or not measured:
            return answers
        found = reasoned(self.surrogate, feature_rows([rows[i] for i in measured], self.surrogate.features_))
        done = list(answers)
        for i, surrogate in zip(measured, found, strict=True):
            done[i] = dataclasses.replace(answers[i], au_reasons=f"{SURROGATE_PREFIX}{surrogate.text}",
                                          surrogate_agrees=surrogate.emotion == answers[i].emotion)
        return done

    def explained(self, answer: FaceAnswer, concepts: np.ndarray) -> FaceAnswer:
        """A concept CNN's answer from one face's standardised concepts, with the concepts that raise it most as the
        AU model words them; a face seen masked is answered by the head of masked faces where there is one."""
        head = self.model_for(answer)
        routed = head is self.masked_head
        values = (concept_model.visible_values(self.concepts, concepts[None]) if routed
                  else self.concepts.in_units(concepts[None]))
        (found,) = reasoned(head, values)
        note = CONCEPT_ROUTED_NOTE if routed else CONCEPT_MASKED_NOTE if answer.masked else answer.reason
        return dataclasses.replace(answer, emotion=found.emotion, probabilities=found.probabilities, reason=note,
                                   au_reasons=found.text + (MOUTH_HIDDEN if routed else ""), regions=found.regions)

    def model_for(self, answer: FaceAnswer) -> AuModel | None:
        """A concept CNN's head behind an answer: the head of masked faces for a face seen masked, if there is one."""
        return self.masked_head if answer.masked and self.masked_head is not None else self.head

    def predict_frame(self, measurer: VideoMeasurer, frame: Frame) -> list[FaceAnswer]:
        found = measurer.measure(frame)
        image = Image.fromarray(frame.rgb)
        answers = self.answer([(face.box(), to_gray_face(image.crop(face.box())), "", row, face)
                               for _, face, row in found])
        return [dataclasses.replace(answer, face_id=face_id) for answer, (face_id, _, _) in zip(answers, found, strict=True)]


def load_surrogate(model_dir: Path, classes: list[str]) -> AuModel | None:
    """The AU surrogate the surrogates stage fitted to the CNN in ``model_dir``, as its folder names it (None where
    there is none); one of other classes is a one-line error."""
    folder = companion(model_dir, SURROGATE)
    if folder is None or not (folder / au_models.MODEL_FILE).is_file():
        return None
    model = au_models.load(folder, "surrogates")
    if not set(model.classes) <= set(classes):
        raise UserError(f"{folder} answers {', '.join(model.classes)}, {model_dir} {', '.join(classes)}: rerun "
                        "'dvc repro surrogates'")
    return model


def load_predictor(model_dir: str | Path, max_faces: int = PredictOptions.max_faces,
                   detector_dir: str | Path | None = None) -> AuPredictor | CnnPredictor:
    """The predictor for a model folder written by train_au_model (model.json) or train_cnn (model.keras), with the
    mask detector in ``detector_dir`` (None: the one the model's folder names, if it is there)."""
    model_dir = Path(model_dir)
    kind = AuPredictor if (model_dir / au_models.MODEL_FILE).is_file() else \
        CnnPredictor if (model_dir / cnn.MODEL_FILE).is_file() else None
    if kind is None:
        raise UserError(f"{model_dir} holds no {au_models.MODEL_FILE} (AU model) or {cnn.MODEL_FILE} (CNN): "
                        "train one with 'make run'")
    named = companion(model_dir, MASK_DETECTOR)
    if detector_dir is not None or (named is not None and (named / cnn.MODEL_FILE).is_file()):  # before MediaPipe opens
        detector, why_not = mask_detector.load_trusted(detector_dir if detector_dir is not None else named)
    else:
        detector, why_not = None, (f"no mask detector named by {model_dir} (train it with 'dvc repro "
                                   "train_mask_detector', or name one with --mask-detector)")
    predictor = kind(model_dir, max_faces)
    predictor.mask_detector, predictor.no_mask_detector = detector, why_not
    return predictor


def check_annotate(folder: Path, predictor: AuPredictor | CnnPredictor) -> None:
    """A one-line UserError, before any prediction, unless the reasons can be drawn into ``folder``."""
    if predictor.model_for(FaceAnswer()) is None:
        raise UserError("--annotate draws an AU model's reasons on the face: use it with an AU model folder or a "
                        "concept CNN's (cnn.concepts)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".annotate.", suffix=".tmp"):
            pass
    except OSError as exc:
        raise UserError(f"--annotate {folder} cannot be written ({exc.strerror})") from None


def predict_files(predictor: AuPredictor | CnnPredictor, files: list[Path],
                  options: PredictOptions = PredictOptions()) -> pd.DataFrame:
    """One row per face of each image and per face of each analysed video frame (path, frame, time_s, face_id, box,
    masked, emotion, confidence, reason, the class probabilities, AU reasons); a file or frame without a face is one row with
    its reason. With ``options.annotate``, each image's faces drawn with their reasons and each video's timeline, as
    <index>_<name>.png there (the rows' ``annotation``)."""
    return pd.concat(list(predicted_tables(predictor, files, options)), ignore_index=True)


def predicted_tables(predictor: AuPredictor | CnnPredictor, files: list[Path],
                     options: PredictOptions = PredictOptions()) -> Generator[pd.DataFrame]:
    """predict_files' rows one input file at a time, each table in the final columns and types (to be written as
    they come)."""
    found = [path.exists() for path in files]
    located = _located(predictor, [path for path, there in zip(files, found, strict=True) if there and not is_video_name(path)],
                       options.aus or predictor.measures)
    targets = annotation_targets(options.annotate, files) if options.annotate is not None else [None] * len(files)
    for index, path in enumerate(tqdm(files, desc="predict", unit="file", mininterval=2.0, disable=len(files) < 50)):
        target = targets[index]
        if not found[index]:
            rows = [_row(predictor, path, FaceAnswer(reason="file not found"))]
        elif is_video_name(path):
            rows = _video_rows(predictor, path, options, target)
        else:
            rows = _image_rows(predictor, path, next(located), target)
        table = pd.DataFrame(rows)
        if options.annotate is not None:
            table["annotation"] = path_text(target) if target is not None and target.exists() else ""
        table = table.astype({**dict.fromkeys(["frame", "face_id", *BOX_COLUMNS, *AU_PRESENCE_COLUMNS], "Int64"),
                              **dict.fromkeys({"masked", "surrogate_agrees"} & set(table.columns), "boolean")})
        yield table if options.aus else table.drop(columns=[*AU_COLUMNS, *AU_PRESENCE_COLUMNS, "unmeasured"])


def annotation_targets(folder: Path, files: list[Path]) -> list[Path]:
    """Where --annotate draws each input: <index>_<name>.png in ``folder``, or, where a file of that name exists (an
    input, a user's file, an earlier run's drawing), the first free <index>_<name>_<n>.png: nothing is replaced."""
    targets: list[Path] = []
    for index, path in enumerate(files):
        stem, number = f"{index:05d}_{path.stem}", 1
        target = folder / f"{stem}.png"
        while target.exists() or target in targets:
            number += 1
            target = folder / f"{stem}_{number}.png"
        targets.append(target)
    return targets


def _located(predictor: AuPredictor | CnnPredictor, images: list[Path], aus: bool) -> Iterator[list[object] | str]:
    """What ``predictor.locate`` finds in each image, in order, or the reason the image cannot be used: in worker
    processes, one per core, when there are at least PARALLEL_FROM images."""
    workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if len(images) < PARALLEL_FROM or workers < 2:
        yield from (_locate(type(predictor), predictor.backend, aus, path) for path in images)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_start_worker,
                      initargs=(type(predictor), predictor.settings, predictor.backend.finder.max_faces, aus)) as pool:
        yield from pool.imap(_locate_in_worker, images, chunksize=16)


def _locate(kind: type[AuPredictor | CnnPredictor], backend: MediaPipeBackend, aus: bool, path: Path
            ) -> list[object] | str:
    try:
        return kind.locate(backend, read_image(path), aus)
    except ImageRejected as exc:
        return str(exc)
    except (OSError, ValueError) as exc:
        return f"could not be processed ({type(exc).__name__}: {str(exc).splitlines()[0]})"


_worker: tuple[type[AuPredictor | CnnPredictor], MediaPipeBackend, bool] | None = None


def _start_worker(kind: type[AuPredictor | CnnPredictor], settings: MediaPipeParams, max_faces: int, aus: bool) -> None:
    """A worker process: its own landmarker; Ctrl-C is the parent's to handle; it ends with its parent."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_parent()
    _worker = (kind, MediaPipeBackend(settings, max_faces=max_faces), aus)


def _locate_in_worker(path: Path) -> list[object] | str:
    assert _worker is not None
    return _locate(*_worker, path)


def _image_rows(predictor: AuPredictor | CnnPredictor, path: Path, located: list[object] | str,
                drawing: Path | None) -> list[dict[str, object]]:
    if isinstance(located, str):
        answers = [FaceAnswer(reason=located)]
    else:
        answers = predictor.answer(located) or [FaceAnswer(reason="no face found")]  # type: ignore[arg-type]
        if drawing is not None:
            picture = predictor.drawing(read_image(path), answers)
            if picture is not None:
                with atomic_path(drawing) as tmp:
                    picture.save(tmp, format="PNG", compress_level=ANNOTATION_PNG_COMPRESSION)
    return [_row(predictor, path, dataclasses.replace(answer, face_id=i if answer.emotion or answer.face else None))
            for i, answer in enumerate(answers)]


def _video_rows(predictor: AuPredictor | CnnPredictor, path: Path, options: PredictOptions,
                timeline: Path | None) -> list[dict[str, object]]:
    try:
        capture, info = open_video(path)
    except VideoRejected as exc:
        return [_row(predictor, path, FaceAnswer(reason=str(exc)))]
    rows: list[dict[str, object]] = []
    pending: list[tuple[Frame, FaceAnswer]] = []
    decoded = 0

    def complete_pending() -> None:
        for (frame, _), answer in zip(pending, predictor.complete([answer for _, answer in pending]), strict=True):
            rows.append(_row(predictor, path, answer, frame))
        pending.clear()

    try:
        with predictor.video_measurer() as measurer:
            for frame in tqdm(read_frames(capture, info, options.frame_step), desc=path.name, unit="frame",
                              total=-(-info.frames // options.frame_step) or None, mininterval=2.0, leave=False):
                decoded += 1
                answers = predictor.predict_frame(measurer, frame) or [FaceAnswer(reason="no face found")]
                pending.extend((frame, answer) for answer in answers)
                if len(pending) >= CLASSIFY_BATCH:
                    complete_pending()
            complete_pending()
    finally:
        capture.release()  # type: ignore[attr-defined]
    if truncated := ended_early(decoded * options.frame_step, info):
        rows.append(_row(predictor, path, FaceAnswer(reason=truncated)))
    if not rows:
        return [_row(predictor, path, FaceAnswer(reason="no frame could be decoded"))]
    table = smoothed(pd.DataFrame(rows), predictor.classes, options.smooth)
    if timeline is not None:
        _draw_timeline(table, predictor.classes, path, timeline)
    return table.to_dict("records")


def smoothed(table: pd.DataFrame, classes: list[str], window: int) -> pd.DataFrame:
    """A video's rows with each face's probabilities averaged over its last ``window`` analysed frames, and its
    emotion and confidence following them (AU reasons stay those of the frame)."""
    if window <= 1:
        return table
    columns = [f"p_{emotion}" for emotion in classes]
    answered = table.emotion != ""
    for _, rows in table[answered].groupby("face_id"):
        table.loc[rows.index, columns] = rows[columns].rolling(window, min_periods=1).mean().round(4).to_numpy()
    table.loc[answered, "emotion"] = np.array(classes)[table.loc[answered, columns].to_numpy().argmax(axis=1)]
    table.loc[answered, "confidence"] = table.loc[answered, columns].max(axis=1)
    return table


def _draw_timeline(table: pd.DataFrame, classes: list[str], path: Path, target: Path) -> None:
    """The timeline of the face seen in most analysed frames, over every analysed frame."""
    answered = table[table.emotion != ""]
    if answered.empty:
        return
    face_id = answered.face_id.value_counts().idxmax()
    frames = table.dropna(subset=["frame"]).drop_duplicates("frame")[["frame", "time_s"]]
    face = frames.merge(answered[answered.face_id == face_id].drop(columns="time_s"), on="frame", how="left")
    timeline_figure(face, classes, f"{path.name}: face {int(face_id)}", target)


def _row(predictor: AuPredictor | CnnPredictor, path: Path, answer: FaceAnswer, frame: Frame | None = None
         ) -> dict[str, object]:
    """One output row, the same columns for images and videos (the AU columns too: predict_files keeps them only
    when asked for)."""
    probabilities = answer.probabilities
    row: dict[str, object] = {
        "path": path_text(path), "frame": frame.index if frame is not None else None,
        "time_s": frame.time_s if frame is not None else None, "face_id": answer.face_id,
        **dict(zip(BOX_COLUMNS, answer.box if answer.box is not None else (None,) * 4, strict=True)),
        "masked": answer.masked,
        "emotion": answer.emotion,
        "confidence": round(float(np.max(probabilities)), 4) if probabilities is not None else np.nan,
        "reason": answer.reason,
    }
    for i, emotion in enumerate(predictor.classes):
        row[f"p_{emotion}"] = round(float(probabilities[i]), 4) if probabilities is not None else np.nan
    if predictor.model_for(answer) is not None or predictor.surrogate is not None:
        row["au_reasons"] = answer.au_reasons
    if predictor.surrogate is not None:
        row["surrogate_agrees"] = answer.surrogate_agrees
    return row | au_columns(answer.au_values)

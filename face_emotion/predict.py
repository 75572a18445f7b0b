"""Predicting emotions for any face images with a model folder the pipeline wrote (AU model or CNN)."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from face_emotion import au_model
from face_emotion.au.backends.mediapipe import MediaPipeBackend
from face_emotion.au_model.features import feature_matrix
from face_emotion.cnn import model as cnn
from face_emotion.core.config import AuParams, MediaPipeParams, compose_conf, parse_params, parse_section
from face_emotion.core.errors import UserError
from face_emotion.core.io import atomic_path
from face_emotion.data.images import ImageRejected, is_image_name, read_image, to_gray_face
from face_emotion.explain.drawing import draw_reasons, region_reasons
from face_emotion.explain.reasons import reason_text, top_reasons


def check_output(output: Path, inputs: list[Path]) -> None:
    """A one-line UserError, before any prediction, unless ``output`` is a CSV that can be written and is none of
    the inputs: predict never overwrites a user's photo."""
    if output.suffix.lower() != ".csv":
        raise UserError(f"--output {output} must be a .csv file (predict writes one row per input there)")
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
    """Named files as given (whatever their extension), and image files found recursively in named folders."""
    files: list[Path] = []
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and is_image_name(p))
        else:
            files.append(path)
    return files


class _MediaPipePredictor:
    """A predictor that measures faces with MediaPipe: use it in a ``with`` block, which closes the landmarker
    (left open, MediaPipe prints a traceback when the interpreter exits)."""

    backend: MediaPipeBackend

    def __enter__(self) -> _MediaPipePredictor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.backend.__exit__(exc_type, exc, tb)


class AuPredictor(_MediaPipePredictor):
    """The explainable model: MediaPipe AUs measured as for its training faces, the model, the AUs behind each answer."""

    def __init__(self, model_dir: Path) -> None:
        self.model = au_model.load(model_dir)
        settings_file = model_dir / au_model.AU_SETTINGS_FILE
        if not settings_file.is_file():
            raise UserError(f"{settings_file} not found: retrain the model with 'dvc repro train_au_model'")
        settings = parse_section(AuParams, json.loads(settings_file.read_text()), str(settings_file))
        if not isinstance(settings, MediaPipeParams):
            raise UserError(f"{model_dir} was trained on '{settings.backend}' AUs; predict measures faces with "
                            "MediaPipe only")
        self.backend = MediaPipeBackend(settings)
        self.classes = self.model.classes

    def predict(self, path: Path) -> dict[str, object]:
        row = self.backend.measure(str(path))
        if not row["success"]:
            return {"reason": row["failure_reason"]}
        values = feature_matrix(pd.DataFrame([row]), self.model.features_)
        probabilities = self.model.predict_proba(values)[0]
        emotion = self.classes[int(probabilities.argmax())]
        below_average = self.model.standardise(values)[0] < 0
        contributions = self.model.contributions(values)[0][self.classes.index(emotion)]
        reasons = top_reasons(self.model, self.model.contributions(values)[0], below_average, emotion)
        return {"emotion": emotion, "probabilities": probabilities, "contributions": contributions,
                "au_reasons": reason_text(emotion, float(probabilities.max()), reasons)}

    def annotate(self, path: Path, result: dict[str, object]) -> Image.Image | None:
        """The image with the regions behind its answer drawn on the face (None if no face is found to draw on)."""
        image = read_image(path)
        landmarks = self.backend.image_landmarks(image)
        if landmarks is None:
            return None
        title = f"{result['emotion']} ({float(np.max(result['probabilities'])):.2f})"
        return draw_reasons(image, landmarks, title, region_reasons(self.model, result["contributions"]))


def face_finder() -> MediaPipeParams:
    """MediaPipe as conf/au/mediapipe.yaml configures it, once per image: it only finds the face for the CNN."""
    return dataclasses.replace(parse_params(compose_conf("au=mediapipe")).au, mirror=False)


class CnnPredictor(_MediaPipePredictor):
    """The CNN: the face found and cropped the way FER2013 faces look, then 48x48 grayscale."""

    def __init__(self, model_dir: Path) -> None:
        import keras

        self._keras = keras
        self.model = cnn.load(model_dir)
        self.classes = json.loads((model_dir / cnn.INFO_FILE).read_text())["classes"]
        self.backend = MediaPipeBackend(face_finder())

    def predict(self, path: Path) -> dict[str, object]:
        try:
            image = read_image(path)
        except ImageRejected as exc:
            return {"reason": str(exc)}
        box = self.backend.face_box(image)
        if box is None:
            return {"reason": "no face found"}
        face = to_gray_face(image.crop(box))[None, :, :, None].astype(np.float32)
        probabilities = self._keras.ops.convert_to_numpy(self.model(face, training=False))[0]
        return {"emotion": self.classes[int(probabilities.argmax())], "probabilities": probabilities}


def load_predictor(model_dir: str | Path) -> AuPredictor | CnnPredictor:
    """The predictor for a model folder written by train_au_model (model.json) or train_cnn (model.keras)."""
    model_dir = Path(model_dir)
    if (model_dir / au_model.MODEL_FILE).is_file():
        return AuPredictor(model_dir)
    if (model_dir / cnn.MODEL_FILE).is_file():
        return CnnPredictor(model_dir)
    raise UserError(f"{model_dir} holds no {au_model.MODEL_FILE} (AU model) or {cnn.MODEL_FILE} (CNN): "
                    "train one with 'make run'")


def check_annotate(folder: Path, predictor: AuPredictor | CnnPredictor) -> None:
    """A one-line UserError, before any prediction, unless the reasons can be drawn into ``folder``."""
    if not isinstance(predictor, AuPredictor):
        raise UserError("--annotate draws an AU model's reasons on the face: use it with an AU model folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".annotate.", suffix=".tmp"):
            pass
    except OSError as exc:
        raise UserError(f"--annotate {folder} cannot be written ({exc.strerror})") from None


def _annotation_name(path: Path, index: int) -> str:
    return f"{index:05d}_{path.stem}.png"


def predict_files(predictor: AuPredictor | CnnPredictor, files: list[Path], annotate: Path | None = None) -> pd.DataFrame:
    """One row per file: emotion (empty when none), confidence, reason, the class probabilities, AU reasons; with
    ``annotate``, the reasons drawn on each face as <index>_<name>.png there (the row's ``annotation``)."""
    rows = []
    for index, path in enumerate(tqdm(files, desc="predict", unit="img", mininterval=2.0, disable=len(files) < 50)):
        if not path.exists():
            result: dict[str, object] = {"reason": "file not found"}
        else:
            try:
                result = predictor.predict(path)
                if annotate is not None and "emotion" in result and isinstance(predictor, AuPredictor):
                    drawn = predictor.annotate(path, result)
                    if drawn is not None:
                        with atomic_path(annotate / _annotation_name(path, index)) as tmp:
                            drawn.save(tmp, format="PNG")
                        result["annotation"] = str(annotate / _annotation_name(path, index))
            except (OSError, ValueError) as exc:
                result = {"reason": f"could not be processed ({type(exc).__name__}: {str(exc).splitlines()[0]})"}
        probabilities = result.get("probabilities")
        row = {"path": str(path), "emotion": result.get("emotion", ""),
               "confidence": round(float(np.max(probabilities)), 4) if probabilities is not None else np.nan,
               "reason": result.get("reason", "")}
        for i, emotion in enumerate(predictor.classes):
            row[f"p_{emotion}"] = round(float(probabilities[i]), 4) if probabilities is not None else np.nan
        if isinstance(predictor, AuPredictor):
            row["au_reasons"] = result.get("au_reasons", "")
        if annotate is not None:
            row["annotation"] = result.get("annotation", "")
        rows.append(row)
    return pd.DataFrame(rows)

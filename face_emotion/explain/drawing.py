"""Reasons drawn on the face: each facial region whose movements the AU model weighed, marked where it is, with the
direction (raises or lowers the predicted emotion) shown by colour, by line style and by a + or - sign, so the
picture reads without colour too; a legend in plain words below it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from face_emotion.au_models.base import AuModel
from face_emotion.core.config import AuParams, MediaPipeParams
from face_emotion.core.feature_sets import feature_matrix
from face_emotion.core.io import atomic_path
from face_emotion.data.images import ImageRejected, read_image
from face_emotion.explain.reasons import RegionReason, regions_for
from face_emotion.faces.finder import TRAINING_MAX_FACES, FaceFinder

OUTLINES: dict[str, list[list[int]]] = {
    "brows": [[70, 63, 105, 66, 107], [300, 293, 334, 296, 336]],
    "eyes": [[33, 160, 159, 158, 133, 153, 145, 144, 33], [263, 387, 386, 385, 362, 380, 374, 373, 263]],
    "cheeks": [[50], [280]],
    "nose": [[64, 197, 294]],
    "upper lip": [[37, 0, 267]],
    "lip corners": [[61], [291]],
    "lips": [[61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146, 61]],
    "chin": [[148, 152, 377]],
    "jaw": [[172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397]],
}
"""Each region of ``REGION_AUS`` (but the head): MediaPipe landmark paths that outline it; a single landmark is
circled."""
RAISES, LOWERS = (213, 94, 0), (0, 114, 178)
"""Okabe-Ito vermilion and blue: told apart with any colour vision, and by the line style and sign as well."""
MIN_SIDE = 288
"""Faces smaller than this (FER2013's 48x48) are enlarged before drawing, so the marks can be seen."""
SHOWN = 5
"""Regions drawn and said per face."""


def _dashed(draw: ImageDraw.ImageDraw, points: list[tuple[float, float]], colour: tuple[int, int, int], width: int,
            dash: float) -> None:
    """A polyline drawn in dashes of ``dash`` pixels, measured along the whole path (short segments too)."""
    path = np.asarray(points, dtype=float)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))])
    for start in np.arange(0.0, along[-1], 2 * dash):
        stops = np.linspace(start, min(start + dash, along[-1]), 6)
        draw.line(list(zip(np.interp(stops, along, path[:, 0]), np.interp(stops, along, path[:, 1]), strict=True)),
                  fill=colour, width=width)


@dataclass(frozen=True)
class FaceToDraw:
    """One face to draw: its (478, 2) landmarks in pixels of the image, its title (the answer), its region reasons."""

    landmarks: np.ndarray
    title: str
    reasons: list[RegionReason]


def draw_reasons(image: Image.Image, faces: list[FaceToDraw], legend: bool = True) -> Image.Image:
    """``image`` (enlarged when small) with each face's ``SHOWN`` strongest regions marked on it: raises solid and
    vermilion with a +, lowers dashed and blue with a -; line width by strength; then, per face, its title and the
    legend in plain words (faces numbered on the picture when there are several). ``legend=False``: the marked
    picture alone (a page that says the words itself)."""
    scale = max(1.0, MIN_SIDE / min(image.size))
    picture = image.convert("RGB").resize((round(image.width * scale), round(image.height * scale)),
                                          Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(picture)
    lines: list[str] = []
    for number, face in enumerate(faces, start=1):
        _mark_regions(draw, face.landmarks * scale, face.reasons[:SHOWN])
        if len(faces) > 1:
            (left, top), right = (face.landmarks * scale).min(axis=0), (face.landmarks * scale).max(axis=0)[0]
            draw.text(((left + right) / 2, top - 4), str(number), fill=(0, 0, 0), anchor="md",
                      font=ImageFont.load_default(size=max(14, round((right - left) / 6))), stroke_width=3,
                      stroke_fill=(255, 255, 255))
        lines += [f"{number}: {face.title}" if len(faces) > 1 else face.title,
                  *(reason.words() for reason in face.reasons[:SHOWN])]
    if not legend:
        return picture
    text_font = ImageFont.load_default(size=14)
    line_height = 20
    text_width = max((round(text_font.getlength(line)) for line in lines), default=0) + 12
    canvas = Image.new("RGB", (max(picture.width, text_width), picture.height + line_height * len(lines) + 10),
                       (255, 255, 255))
    canvas.paste(picture, (0, 0))
    writer = ImageDraw.Draw(canvas)
    for row, line in enumerate(lines):
        colour = RAISES if line.startswith("+") else LOWERS if line.startswith("-") else (0, 0, 0)
        writer.text((6, picture.height + 5 + row * line_height), line, fill=colour, font=text_font)
    return canvas


def _mark_regions(draw: ImageDraw.ImageDraw, points: np.ndarray, shown: list[RegionReason]) -> None:
    """The regions of ``shown`` marked on one face whose landmarks are ``points`` (in pixels of the drawing)."""
    ocular = float(np.linalg.norm(points[263] - points[33])) or 1.0
    strongest = max((abs(r.value) for r in shown), default=1.0) or 1.0
    font = ImageFont.load_default(size=max(12, round(ocular / 5)))
    for reason in shown:
        colour = RAISES if reason.value > 0 else LOWERS
        width = max(2, round(ocular / 25 * (0.5 + abs(reason.value) / strongest)))
        for path in OUTLINES.get(reason.region, []):
            xy = [tuple(points[i]) for i in path]
            if len(xy) == 1:
                radius = ocular / 7
                (x, y), = xy
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=colour, width=width)
            elif reason.value > 0:
                draw.line(xy, fill=colour, width=width, joint="curve")
            else:
                _dashed(draw, xy, colour, width, dash=ocular / 12)
            x, y = np.mean([p for p in xy], axis=0)
            draw.text((x, y - ocular / 6), "+" if reason.value > 0 else "-", fill=colour, font=font, anchor="md",
                      stroke_width=2, stroke_fill=(255, 255, 255))


def draw_examples(model: AuModel, examples: pd.DataFrame, table: pd.DataFrame, au: AuParams, folder: Path) -> pd.DataFrame:
    """``examples`` (explained faces: path, label, predicted, probability) with a ``drawing`` column: each face drawn
    with its reasons as <row>.png in ``folder``, '' where there is nothing to draw on (no image, no face found, AUs
    not measured by MediaPipe)."""
    drawings = [""] * len(examples)
    if isinstance(au, MediaPipeParams) and len(examples):
        rows = examples[["path", "predicted", "probability"]].merge(table, on="path", how="left", validate="one_to_one")
        drawings = draw_faces(model, rows, au, folder)
    return examples.assign(drawing=drawings)


def draw_faces(model: AuModel, faces: pd.DataFrame, au: MediaPipeParams, folder: Path) -> list[str]:
    """Each face (AU-table rows with ``predicted`` and ``probability``) drawn with its reasons as <row>.png in
    ``folder``; the file names ('' where no face is found in the image to draw on)."""
    regions = regions_for(model, feature_matrix(faces, model.features_), list(faces.predicted))
    drawn: list[str] = []
    with FaceFinder(dataclasses.replace(au, mirror=False), TRAINING_MAX_FACES) as finder:
        for row, (face, reasons) in enumerate(zip(faces.itertuples(), regions, strict=True)):
            try:
                image = read_image(face.path)
            except ImageRejected:
                drawn.append("")
                continue
            landmarks = finder.image_landmarks(image)
            if landmarks is None:
                drawn.append("")
                continue
            title = f"{face.predicted} ({face.probability:.2f}), labelled {face.label}"
            picture = draw_reasons(image, [FaceToDraw(landmarks, title, reasons)])
            with atomic_path(folder / f"{row:03d}.png") as tmp:
                picture.save(tmp, format="PNG")
            drawn.append(f"{row:03d}.png")
    return drawn

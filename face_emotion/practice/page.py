"""The practice page: an offline folder (index.html, its script and style, deck.js, the face images, a printable
sheet) that plays rounds of guessing from the decks. It needs no server and no network: opened from disk it works."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from html import escape
from importlib import resources
from pathlib import Path

from PIL import Image

from face_emotion.explain.drawing import MIN_SIDE
from face_emotion.practice.deck import look_for

FORMAT = 1
"""Version of deck.js's layout; the page's script checks it."""
DECK_VARIABLE = "PRACTICE_DECK"
"""deck.js sets ``window.PRACTICE_DECK`` (a page opened from file:// cannot fetch a JSON file, but loads a script)."""
STATIC_FILES = ("index.html", "practice.js", "practice.css")
"""Copied as they are from this package's static/ folder."""
LEVELS = {"whole": "Whole faces", "masked": "Masked faces", "mixed": "Mixed"}
"""Level name -> its title; 'mixed' plays the faces of the other two together."""
FACES = "faces"
"""The image folder inside the page's folder."""
WEBP_QUALITY = 85
TYPICAL = "typical of"
"""Marks a movement of the emotion's FACS prototype: 'lip corners pulled up (AU12) ★ typical of happy'."""


@dataclass
class DeckFace:
    """One face of a deck, as the page shows it."""

    id: str
    emotion: str
    masked: bool
    image: str
    """The face to read (relative to the page)."""
    marked: str
    """The same face with the movements behind its emotion marked ('' when none could be drawn)."""
    marked_alt: str
    cues: list[dict]
    """Each marked region: sign ('+' raises the emotion, '-' lowers it), region, movements (plain words), aus, and
    per movement whether it is typical of the emotion (FACS)."""
    hidden_mouth: str
    """Masked faces: what the hidden mouth would add."""
    unmasked: str
    """Masked faces: the same face without its mask ('' for whole faces)."""
    probability: float
    """The explaining model's probability for the emotion."""
    source: str
    """The test image it comes from."""


@dataclass
class Deck:
    """Everything deck.js holds."""

    classes: list[str]
    round_length: int
    faces: dict[str, DeckFace] = field(default_factory=dict)
    levels: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Said on the page: emotions with fewer faces than asked, and why."""

    def counts(self) -> dict[str, dict[str, int]]:
        """Per level and emotion, the faces the deck holds."""
        return {level: {emotion: sum(self.faces[i].emotion == emotion for i in ids) for emotion in self.classes}
                for level, ids in self.levels.items()}

    def to_dict(self) -> dict:
        return {"format": FORMAT, "classes": self.classes, "round_length": self.round_length,
                "look_for": {emotion: look_for(emotion) for emotion in self.classes},
                "levels": [{"name": name, "title": LEVELS[name], "faces": ids} for name, ids in self.levels.items()],
                "faces": {key: asdict(face) for key, face in self.faces.items()}, "counts": self.counts(),
                "notes": self.notes}


def save_image(image: Image.Image, folder: Path, name: str, grey: bool) -> str:
    """``image`` as ``folder``/faces/``name``.webp, enlarged as the drawings are; its path relative to ``folder``."""
    scale = max(1.0, MIN_SIDE / min(image.size))
    picture = image.convert("L" if grey else "RGB")
    if scale > 1:
        picture = picture.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    relative = f"{FACES}/{name}.webp"
    (folder / FACES).mkdir(exist_ok=True)
    picture.save(folder / relative, format="WEBP", quality=WEBP_QUALITY, method=6)
    return relative


def write_page(deck: Deck, folder: Path) -> None:
    """The page's files into ``folder`` (which already holds the deck's images)."""
    static = resources.files("face_emotion.practice") / "static"
    for name in STATIC_FILES:
        with resources.as_file(static / name) as source:
            shutil.copyfile(source, folder / name)
    (folder / "deck.js").write_text(f"window.{DECK_VARIABLE} = {json.dumps(deck.to_dict(), indent=1)};\n")
    (folder / "sheet.html").write_text(teacher_sheet(deck))


def read_deck(path: Path) -> dict:
    """The decks a page's deck.js holds (for tests and tools)."""
    text = path.read_text()
    prefix = f"window.{DECK_VARIABLE} = "
    if not text.startswith(prefix):
        raise ValueError(f"{path} does not set window.{DECK_VARIABLE}")
    return json.loads(text.removeprefix(prefix).rstrip().removesuffix(";"))


SHEET_STYLE = """
body { font-family: system-ui, sans-serif; font-size: 1.1rem; line-height: 1.5; margin: 1rem; color: #111; }
section { break-after: page; } section:last-of-type { break-after: auto; }
.cards { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; width: 14rem; border: 1px solid #555; padding: 0.5rem; break-inside: avoid; }
figure img { width: 100%; height: auto; }
ul { padding-left: 1.2rem; margin: 0.25rem 0; } .lowers { font-style: italic; }
"""


def teacher_sheet(deck: Deck) -> str:
    """A printable page per emotion: every deck face with its movements marked and named."""
    sections = []
    for emotion in deck.classes:
        faces = [f for f in deck.faces.values() if f.emotion == emotion]
        cards = "".join(_card(face) for face in faces) or "<p>No face of this emotion qualified in this run.</p>"
        sections.append(f'<section><h2>{escape(emotion.title())}</h2><p>{len(faces)} face(s). Marks: + (solid) the '
                        f'movement shows {escape(emotion)}, - (dashed) it speaks against it; &#9733; a movement '
                        f'{TYPICAL} {escape(emotion)} in FACS.</p>'
                        f'<div class="cards">{cards}</div></section>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Practice deck: printable sheet</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{SHEET_STYLE}</style></head>'
            f'<body><main><h1>Practice deck: the faces and the movements behind each</h1>{"".join(sections)}</main>'
            '</body></html>\n')


def _movement(words: str, typical: bool, emotion: str) -> str:
    return escape(words) + (f" <strong>&#9733; {TYPICAL} {escape(emotion)}</strong>" if typical else "")


def _card(face: DeckFace) -> str:
    picture = face.marked or face.image
    alt = face.marked_alt if face.marked else f"A {face.emotion} face"
    cues = "".join(f'<li class="{"raises" if c["sign"] == "+" else "lowers"}">{escape(c["sign"])} {escape(c["region"])}: '
                   f'{"; ".join(_movement(m, t, face.emotion) for m, t in zip(c["movements"], c["typical"], strict=True))}'
                   '</li>' for c in face.cues)
    mask = "<p>Masked: read from the eyes and brows.</p>" if face.masked else ""
    return (f'<figure><img src="{escape(picture)}" alt="{escape(alt)}"><figcaption><strong>{escape(face.emotion)}'
            f'</strong>{mask}<ul>{cues}</ul></figcaption></figure>')

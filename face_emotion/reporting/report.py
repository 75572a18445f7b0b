"""The experiment's explanation page: one self-contained, accessible HTML file built from the stage outputs."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pandas as pd
from PIL import Image

from face_emotion.core.facs import PROTOTYPES, au_label
from face_emotion.core.tables import AU_MODEL, AU_ROUTE, UPPER_FACE_AU_MODEL, action_units_of, describe
from face_emotion.data.images import ImageRejected, read_image

FACE_PIXELS = 144

STYLE = """
body { font-family: system-ui, sans-serif; line-height: 1.5; max-width: 62rem; margin: 0 auto; padding: 1rem; color: #111; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 2px solid #111; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #555; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
.scroll { overflow-x: auto; }
.faces { display: flex; flex-wrap: wrap; gap: 1rem; }
figure.face { margin: 0; padding: 0.5rem; border: 1px solid #555; width: 20rem; max-width: 100%; box-sizing: border-box; }
figure.face img { width: 9rem; height: 9rem; image-rendering: pixelated; margin-right: 0.25rem; }
figure.face img.drawn { width: 100%; height: auto; image-rendering: auto; }
figure.face .verdict { font-weight: bold; }
td.diagonal { font-weight: bold; text-decoration: underline; }
img.plot { max-width: 100%; height: auto; }
pre { background: #f3f3f3; padding: 0.75rem; overflow-x: auto; font-size: 0.85rem; }
"""


@dataclass(frozen=True)
class ReportInputs:
    """Everything the page shows, as the pipeline's stages wrote it."""

    title: str
    comparison: dict
    profiles: pd.DataFrame
    agreement: dict
    examples: pd.DataFrame
    """Per emotion the AU model's most confident right and wrong test faces, with their reasons and drawings."""
    example_faces: Path
    """The folder of the drawings."""
    predictions: pd.DataFrame
    masked_profiles: pd.DataFrame | None
    """The masked-face AU model's profiles (None: no such model)."""
    masked_examples: pd.DataFrame | None
    """Its most confident right and wrong answers on masked test faces, with reasons and drawings."""
    masked_example_faces: Path
    masked_paths: dict[str, str]
    """Unmasked test image path -> its copy in the test mask style."""
    heatmap: Path | None
    shapes: Path | None
    quality: dict
    params_text: str
    classes: list[str]
    practice_link: str
    """The practice page, relative to this page."""
    au_scores: pd.DataFrame
    """Per AU: its spread and prototype AUC (face_emotion.au.validity)."""
    au_montages: Path
    """<AU column>.png: the validation faces each AU measures highest and lowest (absent without face images)."""
    au_backend: str
    cnn_reasons: dict[str, str]
    """Test image path -> the concept CNN's answer and reasons (empty: the CNN is a plain one)."""
    concept_fidelity: pd.DataFrame | None
    """Per concept: r and MAE of the concept CNN's predicted against the measured values (None: a plain CNN)."""
    concept_agreement: dict | None
    """The concept CNN's head: FACS agreement per emotion."""


def _data_uri(image: Image.Image, size: int = FACE_PIXELS) -> str:
    """A PNG data URI of ``image`` scaled up to ``size`` pixels (the page needs no other file)."""
    buffer = io.BytesIO()
    image.convert("L").resize((size, size), Image.Resampling.NEAREST).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _file_uri(path: Path) -> str:
    return f"data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"


def _table(frame: pd.DataFrame, caption: str, diagonal: bool = False) -> str:
    """An HTML table with a caption and header cells; on a confusion matrix the diagonal is bold and underlined."""
    head = "".join(f'<th scope="col">{escape(str(c))}</th>' for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for j, value in enumerate(row):
            if j == 0:
                cells.append(f'<th scope="row">{escape(str(value))}</th>')
            else:
                marked = diagonal and frame.columns[j] == row[0]
                cells.append(f'<td{" class=diagonal" if marked else ""}>{escape(str(value))}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def comparison_section(comparison: dict, classes: list[str]) -> str:
    """Every model's scores on the test faces, then on the same faces masked."""
    models: dict[str, dict] = comparison["models"]
    rows = [{"model": name, "accuracy": f"{m['accuracy']:.3f}", "macro-F1": f"{m['macro_f1']:.3f}",
             "no face": m.get("no_face", "-"), "images/s": f"{m['images_per_s']:,.0f}" if m.get("images_per_s") else "-",
             "size (MB)": m.get("size_mb", "-"),
             **{f"F1 {c}": f"{m['per_class'][c]['f1']:.2f}" for c in classes}} for name, m in models.items()]
    parts = ["<h2 id=comparison>Models compared</h2>",
             f"<p>All models on the same {next(iter(models.values()))['n']} test faces. 'No face': faces the AU model "
             "could not measure, counted as wrong. Images/s: the model alone on decoded faces; for the AU model, "
             "on measured AUs (measuring them is the extract_au stage's work).</p>",
             _table(pd.DataFrame(rows), "Test scores, unmasked faces")]
    for test_set, masked in comparison.get("masked", {}).items():
        masked_rows = [{"model": name, "accuracy": f"{m['accuracy']:.3f}", "macro-F1": f"{m['macro_f1']:.3f}",
                        "change in accuracy": f"{m['accuracy'] - models[name]['accuracy']:+.3f}",
                        "no face": m.get("no_face", "-")} for name, m in masked["models"].items()]
        unseen = " Training never drew this style: it shows how the models cope with a mask they have not seen." \
            if test_set == "unseen_mask" else ""
        detection = masked.get("mask_detection")
        detected = (f" The mask detector tells these masked faces from the same faces unmasked with "
                    f"{detection:.1%} accuracy.") if detection is not None else ""
        parts += [f"<h3>With the lower face masked ({escape(masked['style'])})</h3><p>The same faces with a "
                  f"{escape(masked['style'])} mask over the lower {masked['height']:.0%}, as children saw faces during "
                  f"the pandemic.{unseen}{detected}</p>",
                  _table(pd.DataFrame(masked_rows), f"Test scores, faces in a {masked['style']} mask"),
                  "<p>Facial movements the AU model can still measure under the mask: "
                  f"{escape(', '.join(describe(au) for au in masked['measurable']) or 'none')}.</p>"]
    return "\n".join(parts)


def readable_section(inputs: ReportInputs) -> str:
    """For teachers: per emotion, how often each model still reads it above a mask (recall, masked and not), which
    movements the masked-face AU model reads it by, and example masked faces with that model's reasons drawn."""
    masked = inputs.comparison.get("masked", {}).get("masked")
    if not masked:
        return ""
    models: dict[str, dict] = inputs.comparison["models"]
    kept = {n for column in masked["measurable"] for n in action_units_of(column)}
    rows = []
    for emotion in inputs.classes:
        raisers = inputs.profiles[(inputs.profiles.emotion == emotion) & (inputs.profiles.direction == "raises")]
        visible = [r.description for r in raisers.itertuples()
                   if action_units_of(r.feature) and set(action_units_of(r.feature)) <= kept]
        row = {"emotion": emotion,
               **{f"{name} recall masked (unmasked)": f"{m['per_class'][emotion]['recall']:.2f} "
                  f"({models[name]['per_class'][emotion]['recall']:.2f})"
                  for name, m in masked["models"].items() if name in models},
               "AU model's movements still measurable": ", ".join(visible) or "none measurable"}
        if inputs.masked_profiles is not None:
            read_by = inputs.masked_profiles[(inputs.masked_profiles.emotion == emotion)
                                             & (inputs.masked_profiles.direction == "raises")].head(3)
            row[f"{UPPER_FACE_AU_MODEL} reads it by"] = ", ".join(read_by.description) or "nothing"
        rows.append(row)
    parts = ["<h2 id=readable>What stays readable above a mask</h2>",
             f"<p>Each emotion's recall (the share of its test faces named correctly) with a {escape(masked['style'])} "
             f"mask and without; the movements that raise its odds in the AU model and can still be measured above "
             f"the mask (masked and unmasked intensities correlate at least 0.5); and the upper-face movements the "
             f"masked-face AU model ({UPPER_FACE_AU_MODEL}, trained on masked faces, reading brows, eyes, cheeks and head "
             f"only) reads it by. {AU_ROUTE} is what predict does: the mask detector sends each face to one of the two "
             "AU models.</p>",
             _table(pd.DataFrame(rows), "Per emotion, above a mask")]
    if inputs.masked_examples is not None and len(inputs.masked_examples):
        parts.append("<h3>Masked faces, read from the upper face</h3><p>For each emotion, the masked-face AU model's "
                     "most confident correct and wrong answers on masked test faces, the regions behind them drawn "
                     "on the face.</p>")
        for emotion in inputs.classes:
            chosen = inputs.masked_examples[inputs.masked_examples.label == emotion]
            figures = "".join(_masked_figure(row, inputs.masked_example_faces) for _, row in chosen.iterrows())
            parts.append(f"<h4>{escape(emotion)}</h4><div class=faces>{figures or '<p>No measured masked faces.</p>'}"
                         "</div>")
    return "\n".join(parts)


def _masked_figure(row: pd.Series, folder: Path) -> str:
    """One masked test face with the masked-face AU model's reasons drawn on it and in words."""
    verdict = "correct" if row.predicted == row.label else "wrong"
    drawing = folder / str(row.drawing or "-")
    image = (f'<img class="drawn" src="{_file_uri(drawing)}" alt="Masked test face labelled {escape(row.label)}, '
             "the upper-face regions behind the masked-face AU model's answer marked on it.\">"
             if drawing.is_file() else "")
    return (f'<figure class="face">{image}<figcaption><div class="verdict">{verdict.upper()}: labelled '
            f"{escape(row.label)}</div><div>{UPPER_FACE_AU_MODEL}: {escape(row.reasons)}</div></figcaption></figure>")


def _au_list(numbers: list[int]) -> str:
    return ", ".join(au_label(n) for n in numbers)


def profiles_section(inputs: ReportInputs) -> str:
    """Per emotion: the movements that raise and lower its odds, and how they match the FACS prototype."""
    parts = ["<h2 id=profiles>What each emotion looks like to the AU model</h2>",
             "<p>The AU model gives each facial movement (FACS Action Unit) a weight per emotion: how much one standard "
             "deviation more of it moves the emotion's log-odds. Positive weights raise the emotion's odds, negative "
             "weights lower them. A measurement that reads both ways is named in the direction the face moves: "
             "'inner brow height, low (AU04 brow lowerer)' is the brows lowering, with the sign of its weight "
             "turned.</p>"]
    for emotion in inputs.classes:
        rows = inputs.profiles[inputs.profiles.emotion == emotion]
        raises = ", ".join(f"{r.description} ({r.coefficient:+.2f})" for r in rows[rows.direction == "raises"].itertuples())
        lowers = ", ".join(f"{r.description} ({r.coefficient:+.2f})" for r in rows[rows.direction == "lowers"].itertuples())
        parts.append(f"<h3>{escape(emotion)}</h3><ul><li><strong>Raised by:</strong> {escape(raises or 'nothing')}</li>"
                     f"<li><strong>Lowered by:</strong> {escape(lowers or 'nothing')}</li>")
        found = inputs.agreement.get(emotion)
        if found:
            parts.append(f"<li><strong>FACS prototype:</strong> {escape(_au_list(found['prototype']))}; "
                         f"{found['hits']} of the {len(found['measurable'])} measurable ones are among the five "
                         "strongest movements that raise it.</li>")
        elif emotion not in PROTOTYPES:
            parts.append("<li>FACS names no prototype for this emotion.</li>")
        parts.append("</ul>")
    if inputs.heatmap and inputs.heatmap.is_file():
        parts.append(f'<img class="plot" src="{_file_uri(inputs.heatmap)}" alt="Heatmap of the weight of each facial '
                     'movement for each emotion; the lists above name a measurement read as a fall with its weight turned.">')
    if inputs.shapes and inputs.shapes.is_file():
        parts += ["<h3>How each movement moves the odds</h3><p>For the movements that matter most: each emotion's "
                  "log-odds along the movement's measured range, every other movement as on the average face.</p>",
                  f'<img class="plot" src="{_file_uri(inputs.shapes)}" alt="Line charts, one per facial movement, of '
                  'how the log-odds of each emotion change as the movement grows; each emotion has its own line style.">']
    return "\n".join(parts)


def _face_figure(row: pd.Series, inputs: ReportInputs, other_models: list[str]) -> str:
    """One test face with its reasons drawn on it (and its masked copy), the AU model's answer in words, and the other
    models' answers."""
    verdict = "correct" if row.predicted == row.label else "wrong"
    images = []
    drawing = inputs.example_faces / str(row.get("drawing", "") or "-")
    if drawing.is_file():
        images.append(f'<img class="drawn" src="{_file_uri(drawing)}" alt="Test face labelled {escape(row.label)}, the '
                      "face regions behind the AU model's answer marked on it: + raises the answer (solid), - lowers it "
                      '(dashed); the legend below the face names them.">')
    for path, what in ((None if images else row.path, "Test face"),
                       (inputs.masked_paths.get(row.path), "The same face masked")):
        if path and Path(path).is_file():
            try:
                images.append(f'<img src="{_data_uri(read_image(path))}" alt="{what}, labelled {escape(row.label)}">')
            except ImageRejected:
                continue
    answers = {name: row[name] for name in other_models if name in row and pd.notna(row[name])}
    test_sets = list(inputs.comparison.get("masked", {}))
    unmasked = [f"{escape(name)}: {escape(str(v))}" for name, v in answers.items()
                if not any(name.startswith(f"{s}_") for s in test_sets)]
    lines = [f"Other models: {', '.join(unmasked)}." if unmasked else ""]
    for test_set in test_sets:
        style = inputs.comparison["masked"][test_set]["style"]
        masked = [f"{escape(name.removeprefix(f'{test_set}_'))}: {escape(str(v))}" for name, v in answers.items()
                  if name.startswith(f"{test_set}_")]
        lines.append(f"In a {escape(style)} mask: {', '.join(masked)}." if masked else "")
    cnn = inputs.cnn_reasons.get(row.path)
    return (f'<figure class="face">{"".join(images)}<figcaption><div class="verdict">{verdict.upper()}: labelled '
            f"{escape(row.label)}</div><div>AU model: {escape(row.reasons)}</div>"
            + (f"<div>CNN: {escape(cnn)}</div>" if cnn else "")
            + "".join(f"<div>{line}</div>" for line in lines if line) + "</figcaption></figure>")


def examples_section(inputs: ReportInputs) -> str:
    """Per emotion: the AU model's most confident right and wrong answers on test faces, with their reasons."""
    faces = inputs.examples.merge(inputs.predictions.drop(columns=["label"]), on="path", how="left")
    other_models = [c for c in inputs.predictions.columns if c not in ("path", "label", AU_MODEL)]  # its reasons are shown
    parts = ["<h2 id=examples>Example test faces</h2>",
             "<p>For each emotion, the AU model's most confident correct and wrong answers, the face regions behind "
             "them drawn on the face and named below it, the other models' answers, and the masked answers.</p>"]
    for emotion in inputs.classes:
        chosen = faces[faces.label == emotion]
        figures = "".join(_face_figure(row, inputs, other_models) for _, row in chosen.iterrows())
        parts.append(f"<h3>{escape(emotion)}</h3><div class=faces>{figures or '<p>No measured test faces.</p>'}</div>")
    return "\n".join(parts)


def confusion_section(predictions: pd.DataFrame, classes: list[str]) -> str:
    """A confusion matrix per model as a table: rows the true label, columns the answer."""
    parts = ["<h2 id=confusion>Confusion matrices</h2>",
             "<p>Rows: the true label; columns: the model's answer. The diagonal (bold, underlined) counts correct "
             "answers; 'no_face' means the AU model could not measure the face.</p>"]
    for model in [c for c in predictions.columns if c not in ("path", "label")]:
        answers = predictions[model].fillna("not scored")
        columns = classes + sorted(set(answers) - set(classes))
        matrix = pd.crosstab(predictions.label, answers).reindex(index=classes, columns=columns, fill_value=0)
        parts.append(_table(matrix.reset_index().rename(columns={"label": "true label"}), f"{model}", diagonal=True))
    return "\n".join(parts)


def quality_section(quality: dict, params_text: str) -> str:
    """The data behind the experiment and its parameters."""
    counts = pd.DataFrame(quality["counts"]).fillna(0).astype(int).reset_index().rename(columns={"index": "class"})
    return "\n".join([
        "<h2 id=data>Data and parameters</h2>",
        f"<p>{quality['files']} files: {quality['used']} used, {quality['rejected']} rejected, "
        f"{quality['excluded']} excluded. Exact duplicates of a training image among test faces: "
        f"{quality['duplicates_of_train'].get('test', 0)}.</p>",
        _table(counts, "Faces used per class and split"),
        f"<h3>Parameters</h3><pre>{escape(params_text)}</pre>",
    ])


def concept_section(inputs: ReportInputs) -> str:
    """For teachers and researchers: the CNN explained in Action Units, in plain words, and how far its concepts
    mean what their names say (only where the CNN is a concept model)."""
    checks = inputs.comparison.get("concepts")
    if not checks or inputs.concept_fidelity is None:
        return ""
    weakest = inputs.concept_fidelity.sort_values("r").head(5).assign(concept=lambda t: t.concept.map(describe))
    parts = ["<h2 id=concepts>The CNN explained in facial movements</h2>",
             f"<p>The CNN does not answer straight from the pixels. Its last layer sees only "
             f"{len(inputs.concept_fidelity)} numbers, one per facial movement this project measures (the AUs and the "
             "landmark measurements, called concepts), and each emotion's score is a weighted sum of them. While it "
             "learned the emotions, each concept was pulled towards the movement measured on the same face. So its "
             "answer comes with reasons in the AU model's words: the concepts that raise it most (below each example "
             "face, 'CNN: ...'). Such a model is called a concept bottleneck.</p>",
             f"<p>Do the concepts mean what their names say? On the test faces, the CNN's AU concepts follow the "
             f"measured AUs with a median correlation of {checks['concept_fidelity']:.2f} (1: the same, 0: unrelated). "
             f"Its weighted sum answers {checks['head_accuracy']:.1%} of the measured test faces right from its own "
             f"concepts and {checks['intervention_accuracy']:.1%} with the measured movements in their place: the "
             "closer the two, the more the reasons are the movements they name.</p>",
             _table(weakest, "The five concepts that follow their measurement least (r: correlation, mae: mean "
                             "absolute error in the measurement's units)")]
    if inputs.concept_agreement:
        rows = [{"emotion": emotion, "FACS prototype": _au_list(found["prototype"]),
                 "prototype AUs among its five strongest raising concepts": f"{found['hits']} of "
                                                                            f"{len(found['measurable'])}"}
                for emotion, found in inputs.concept_agreement.items()]
        parts.append(_table(pd.DataFrame(rows), "Does the CNN read each emotion by its FACS movements?"))
    return "\n".join(parts)


def measurement_section(inputs: ReportInputs) -> str:
    """For researchers and teachers: does each AU column measure its movement? Its spread, how well it separates the
    emotions whose FACS prototype holds it, and the faces it measures highest and lowest."""
    table = inputs.au_scores.rename(columns={"au": "AU", "name": "FACS name", "prototype_of": "in the prototype of",
                                             "auc": "prototype AUC (validation)", "spread": "spread (SD, 0-5)"})
    parts = ["<h2 id=measurement>How the movements are measured</h2>",
             f"<p>Every explanation rests on the AU intensities the {escape(inputs.au_backend)} backend measures "
             "(0-5, OpenFace's columns). Two checks that need no FACS-coded faces: the spread of each AU over the run's "
             "faces (a column without spread is dead), and how well it separates, on the validation split, the emotions "
             "whose FACS prototype holds it from the others (an AUC: 0.5 is chance; an emotion label says which "
             "movements are likely, not which a face shows, so this is a lower bound of sorts, not agreement with "
             "human coders). Below each table row's AU, the faces it measures highest and lowest: a person sees at "
             "once whether it picks the movement.</p>",
             _table(table.fillna(""), "Per AU: spread and prototype AUC")]
    montages = "".join(
        f'<figure><img class="plot" src="{_file_uri(inputs.au_montages / f"{row.au}.png")}" alt="Validation faces '
        f'{escape(row.name)} ({escape(row.au)}) measures highest, top row, and lowest, bottom row, each with its '
        f'intensity."><figcaption>{escape(au_label(int(row.au[2:4])))}: highest (top), lowest (bottom)'
        "</figcaption></figure>"
        for row in inputs.au_scores.itertuples() if (inputs.au_montages / f"{row.au}.png").is_file())
    return "\n".join([*parts, montages])


def render(inputs: ReportInputs) -> str:
    """The whole page."""
    sections = [comparison_section(inputs.comparison, inputs.classes), readable_section(inputs),
                profiles_section(inputs), concept_section(inputs), examples_section(inputs),
                confusion_section(inputs.predictions, inputs.classes),
                measurement_section(inputs), quality_section(inputs.quality, inputs.params_text)]
    concepts_link = '<a href="#concepts">The CNN explained</a> · ' if inputs.comparison.get("concepts") else ""
    contents = ('<nav aria-label="Contents"><a href="#comparison">Models</a> · <a href="#readable">Above a mask</a> · '
                '<a href="#profiles">Emotion profiles</a> · ' + concepts_link +
                '<a href="#examples">Example faces</a> · <a href="#confusion">Confusion</a> · '
                '<a href="#measurement">Measurement</a> · <a href="#data">Data</a> · '
                f'<a href="{escape(inputs.practice_link)}">Practise reading faces</a> (a page for learners)</nav>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(inputs.title)}</title>'
            f"<style>{STYLE}</style></head><body><header><h1>{escape(inputs.title)}</h1>{contents}</header><main>"
            + "\n".join(sections) + "</main></body></html>\n")

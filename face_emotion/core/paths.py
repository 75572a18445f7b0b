"""Where the pipeline reads and writes. dvc.yaml owns the locations (its ``vars: paths``, which its stages template
as ``${paths.<name>}``); this module reads them and names the files inside each output folder.

The paths live in dvc.yaml, not in params.yaml: they are the map, not an experiment's settings, and DVC would show
every params.yaml key as a column of ``dvc exp show``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from face_emotion.core.errors import UserError

DVC_FILE = "dvc.yaml"


@dataclass(frozen=True)
class Paths:
    """The pipeline's folders and files, relative to the project root."""

    params_check: Path
    """check_params: a marker every stage depends on, so that DVC checks the params before it deletes anything."""
    dataset: Path
    """prepare: the manifest and the decoded faces."""
    data_quality: Path
    """prepare: what became of every input file, counted (JSON)."""
    data_quality_page: Path
    """prepare: the same, with every rejected file listed (Markdown)."""
    au: Path
    """extract_au: the AU table and how it was measured."""
    au_validity: Path
    """au_validity: per AU its spread and prototype AUC (scores.csv), and a montage of its extreme faces."""
    au_cache: Path
    """Per-image AU measurements reused across runs (a local speed-up, not a DVC output)."""
    masked: Path
    """mask_faces: per masked test set, the masked test faces, their manifest and their AU table."""
    masked_train: Path
    """mask_train_faces: the manifest and the AU table of every training and validation face masked (the copies
    themselves are not kept)."""
    au_model: Path
    upper_face_au_model: Path
    cnn: Path
    mask_detector: Path
    face_answers: Path
    """answer_faces: each model on raw faces, its answer per test face (unmasked and masked) and, for the black boxes,
    per training face; the mask detector's verdicts; the concept CNN's checks."""
    surrogates: Path
    """surrogates: per black-box model, the AU model fitted to its answers (an AU model folder)."""
    teachable_machine: Path
    """Teachable Machine exports placed here join the comparison."""
    cnn_training: Path
    """dvclive's per-epoch curves of the CNN."""
    explain: Path
    evaluate: Path
    comparison: Path
    confusion: Path
    report: Path
    practice: Path
    """practice: the page for learners, its deck and face images; opened from disk, no server."""
    extract_au_metrics: Path
    au_validity_metrics: Path
    mask_faces_metrics: Path
    mask_train_faces_metrics: Path
    train_au_model_metrics: Path
    train_upper_face_au_model_metrics: Path
    train_cnn_metrics: Path
    train_mask_detector_metrics: Path
    surrogates_metrics: Path
    explain_metrics: Path
    evaluate_metrics: Path
    practice_metrics: Path

    @property
    def manifest(self) -> Path:
        return self.dataset / "manifest.csv"

    @property
    def faces(self) -> Path:
        return self.dataset / "faces.npz"

    @property
    def video_faces(self) -> Path:
        """The face crops of labelled videos' frames (data.kind videos), <class>/<video file name>_<frame>.png."""
        return self.dataset / "video_faces"

    @property
    def au_table(self) -> Path:
        return self.au / "table.csv"

    @property
    def au_settings(self) -> Path:
        """The AU settings the table was measured with (copied beside the AU model, for predict)."""
        return self.au / "settings.json"

    @property
    def au_summary(self) -> Path:
        return self.au / "summary.json"

    @property
    def au_scores(self) -> Path:
        """Per AU: its spread and prototype AUC (face_emotion.au.validity.SCORE_COLUMNS)."""
        return self.au_validity / "scores.csv"

    @property
    def au_montages(self) -> Path:
        """<AU column>.png: the validation faces measured highest and lowest."""
        return self.au_validity / "montages"

    @property
    def profiles(self) -> Path:
        return self.explain / "au_profiles.csv"

    @property
    def profile_heatmap(self) -> Path:
        return self.explain / "au_profiles.png"

    @property
    def explanations(self) -> Path:
        return self.explain / "explanations.csv"

    @property
    def shape_plot(self) -> Path:
        return self.explain / "au_shapes.png"

    @property
    def examples(self) -> Path:
        """Per emotion, the AU model's most confident right and wrong test faces, with their drawings."""
        return self.explain / "examples.csv"

    @property
    def example_faces(self) -> Path:
        return self.explain / "faces"

    @property
    def masked_profiles(self) -> Path:
        """The masked-face AU model's profiles: per emotion, the upper-face movements that raise and lower it."""
        return self.explain / "masked_au_profiles.csv"

    @property
    def masked_examples(self) -> Path:
        """Per emotion, the masked-face AU model's most confident right and wrong faces of the masked test set."""
        return self.explain / "masked_examples.csv"

    @property
    def masked_example_faces(self) -> Path:
        return self.explain / "masked_faces"

    @property
    def facs_agreement(self) -> Path:
        return self.explain / "facs_agreement.json"

    @property
    def comparison_details(self) -> Path:
        """Every model's full scores, unmasked and masked (the comparison table's source)."""
        return self.evaluate / "comparison.json"

    def face_answers_of(self, face_set: str) -> Path:
        """One face set's answers (face_emotion.evaluation.face_answers: 'test', a masked test set or 'train')."""
        return self.face_answers / f"{face_set}.csv"

    @property
    def face_answers_info(self) -> Path:
        """Which face models answered, their sizes and seconds per face set, the concept CNN's headline checks."""
        return self.face_answers / "answers.json"

    @property
    def concept_fidelity(self) -> Path:
        """The concept CNN's concepts against the measured values on the test faces: per concept r and MAE."""
        return self.face_answers / "concept_fidelity.csv"

    @property
    def concept_facs_agreement(self) -> Path:
        """The concept CNN's head: which FACS prototype AUs each emotion's five strongest raising concepts show."""
        return self.face_answers / "concept_facs_agreement.json"

    @property
    def concept_reasons(self) -> Path:
        """The concept CNN's answer and reasons for every test face (as predict gives them)."""
        return self.face_answers / "concept_reasons.csv"

    @property
    def predictions(self) -> Path:
        """Every test face: each model's answer, unmasked and masked."""
        return self.evaluate / "predictions.csv"

    @property
    def mask_detection(self) -> Path:
        """Every test face: whether the mask detector sees it masked, as it is and in each masked test set."""
        return self.evaluate / "mask_detection.csv"

    @property
    def practice_page(self) -> Path:
        return self.practice / "index.html"

    @property
    def practice_deck(self) -> Path:
        """The decks the page plays, as a script (a page opened from disk cannot fetch a JSON file)."""
        return self.practice / "deck.js"

    @property
    def practice_sheet(self) -> Path:
        """The printable sheet for teachers: every deck face with its emotion and movements, a page per emotion."""
        return self.practice / "sheet.html"

    def surrogate(self, model: str) -> Path:
        """surrogates: the AU surrogate of one black-box model (by its name in the comparison)."""
        return self.surrogates / model

    def masked_images(self, test_set: str) -> Path:
        """mask_faces: the test faces of one masked test set (MaskParams.test_sets)."""
        return self.masked / test_set / "images"

    def masked_manifest(self, test_set: str) -> Path:
        return self.masked / test_set / "manifest.csv"

    def masked_au_table(self, test_set: str) -> Path:
        return self.masked / test_set / "au.csv"

    @property
    def masked_train_manifest(self) -> Path:
        return self.masked_train / "manifest.csv"

    @property
    def masked_train_au_table(self) -> Path:
        return self.masked_train / "au.csv"


def load_paths(project_dir: str | Path = ".") -> Paths:
    """The paths dvc.yaml's ``vars`` declare, relative to ``project_dir`` (the repository root)."""
    project_dir = Path(project_dir)
    dvc_file = project_dir / DVC_FILE
    try:
        declared = yaml.safe_load(dvc_file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{dvc_file} cannot be read ({type(exc).__name__}): run from the repository root") from None
    found = [item["paths"] for item in declared.get("vars", []) if isinstance(item, dict) and "paths" in item]
    names = [f.name for f in fields(Paths)]
    if len(found) != 1 or sorted(found[0]) != sorted(names):
        raise UserError(f"{dvc_file}: 'vars' must hold one 'paths' mapping with exactly these keys: {', '.join(names)}")
    return Paths(**{name: project_dir / found[0][name] for name in names})

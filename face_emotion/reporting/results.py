"""The results page, docs/results.md, written by a command (``make results``), never by hand: the pipeline's metrics
from the workspace's last run and each benchmark's last output, each with the commit and date it was measured on.

Benchmarks record their output with ``record_benchmark`` (benchmarks/results/<name>.json, committed with the code).
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from face_emotion.cnn.model import INFO_FILE
from face_emotion.core.io import read_json, write_json, write_text
from face_emotion.core.paths import Paths, load_paths
from face_emotion.core.tables import AU_ROUTE, UPPER_FACE_AU_MODEL
from face_emotion.practice.page import read_deck

BENCHMARK_RESULTS = Path("benchmarks/results")
RESULTS_PAGE = Path("docs/results.md")
CODE = ["face_emotion", "stages", "conf", "dvc.yaml", "benchmarks", f":(exclude){BENCHMARK_RESULTS}"]
"""What a measurement depends on: a change here, not yet committed, marks it '+ uncommitted changes'."""


def _git(checkout: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True,
                          check=False).stdout.strip()


def provenance(checkout: Path = Path()) -> dict[str, str]:
    """The commit of ``checkout`` (with a mark when its code has uncommitted changes) and the UTC date, for a
    measurement made now."""
    dirty = " + uncommitted changes" if _git(checkout, "status", "--porcelain", "--", *CODE) else ""
    return {"commit": (_git(checkout, "rev-parse", "--short", "HEAD") or "unknown") + dirty,
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def record_benchmark(name: str, command: str, rows: list[dict[str, object]], note: str = "",
                     measured: dict[str, str] | None = None) -> str:
    """Save a benchmark's table (with its command, and the commit and date of ``measured``: default, this checkout
    now) for the results page; return it as Markdown."""
    write_json({"name": name, "command": command, **(measured or provenance()), "note": note, "rows": rows},
               BENCHMARK_RESULTS / f"{name}.json")
    return pd.DataFrame(rows).to_markdown(index=False)


PIPELINE_HEADING, BENCHMARKS_HEADING = "## Pipeline", "## Benchmarks"


def kept_pipeline_section(page: Path) -> list[str] | None:
    """The pipeline section of an existing results page, with the run's commit and date it states (kept when the
    workspace has no run of its own, so that recording a benchmark does not wipe the pipeline's numbers)."""
    text = page.read_text() if page.is_file() else ""
    start, end = text.find(f"\n{PIPELINE_HEADING}\n"), text.find(f"\n{BENCHMARKS_HEADING}\n")
    if start < 0 or end < start or "Workspace run:" not in text[start:end]:
        return None
    return [*text[start + len(PIPELINE_HEADING) + 2:end].strip("\n").splitlines(), ""]


def _pipeline_section(paths: Paths, page: Path) -> list[str]:
    """The last run's test scores: headline per model, per-class F1, per masked test set, the CNN's validation
    scores, FACS agreement; without a run in the workspace, those the page already shows."""
    if not paths.comparison_details.is_file():
        return kept_pipeline_section(page) or ["No pipeline results in this workspace: `make run` first.", ""]
    details = json.loads(paths.comparison_details.read_text())
    measured = datetime.fromtimestamp(paths.comparison_details.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    params = Path("params.yaml").read_text()
    lines = [f"Workspace run: code at {provenance()['commit']}, evaluated {measured}. "
             "Test split; faces the AU model could not measure count as wrong.", "",
             "```yaml", params.strip(), "```", ""]
    models, masked = details["models"], details.get("masked") or {}
    rows = [{"model": name, "accuracy": m["accuracy"], "macro-F1": m["macro_f1"], "dedup accuracy": m["dedup"]["accuracy"],
             "dedup macro-F1": m["dedup"]["macro_f1"],
             **{f"{test_set} accuracy": found["models"].get(name, {}).get("accuracy", "-")
                for test_set, found in masked.items()},
             "size (MB)": m.get("size_mb", "-")}
            for name, m in models.items()]
    f1 = [{"model": name, **{c: s["f1"] for c, s in m["per_class"].items()}} for name, m in models.items()]
    lines += [pd.DataFrame(rows).to_markdown(index=False), "",
              "F1 per class:", "", pd.DataFrame(f1).to_markdown(index=False), ""]
    for test_set, found in masked.items():
        masked_f1 = [{"model": name, **{c: f"{s['f1']:.3f} ({models[name]['per_class'][c]['f1']:.3f})"
                                        for c, s in m["per_class"].items()}} for name, m in found["models"].items()]
        detection = found.get("mask_detection")
        route = found["models"].get(AU_ROUTE)
        unmeasured = (f"; {route['no_face']} of {route['n']} masked faces not measured by MediaPipe "
                      f"({route['no_face'] / route['n']:.1%}), counted wrong" if route and route["n"] else "")
        lines += [f"`{test_set}`: every test face in a {found['style']} mask over {found['height']:.0%} of the face; "
                  "F1 per class masked (unmasked)" + (f"; mask detector accuracy {detection:.4f} on these faces and "
                                                      "the same faces unmasked" if detection is not None else "")
                  + unmeasured + ":", "", pd.DataFrame(masked_f1).to_markdown(index=False), ""]
    if paths.train_cnn_metrics.is_file():
        trained = json.loads(paths.train_cnn_metrics.read_text()).get("cnn", {})
        if "val_masked_accuracy" in trained:
            lines += [f"CNN on the validation split: {trained['val_accuracy']:.4f} unmasked, "
                      f"{trained['val_masked_accuracy']:.4f} in the test mask style{_offset_words(paths, trained)}.", ""]
    lines += _concept_lines(paths)
    surrogates = json.loads(paths.surrogates_metrics.read_text()) if paths.surrogates_metrics.is_file() else {}
    if surrogates:
        lines += ["AU surrogates (the AU model fitted to a black-box model's answers on the training faces): the share "
                  "of test faces where it gives the model's answer, " + ", ".join(
                      f"{name} {found['surrogate_agreement']:.4f} ({found['terms']} terms)" if "terms" in found else
                      f"{name}: none (it gives {found['classes_answered']} class)" for name, found in surrogates.items())
                  + ".", ""]
    if paths.train_upper_face_au_model_metrics.is_file():
        trained = json.loads(paths.train_upper_face_au_model_metrics.read_text()).get(UPPER_FACE_AU_MODEL, {})
        if "val_accuracy" in trained:
            lines += [f"Masked-face AU model on the masked validation copies: {trained['val_accuracy']:.4f} accuracy, "
                      f"{trained['val_macro_f1']:.4f} macro-F1, {trained['terms']} terms.", ""]
    if paths.au_scores.is_file():
        checks = json.loads(paths.au_validity_metrics.read_text())
        scores = pd.read_csv(paths.au_scores).astype(object).fillna("-")  # in no prototype of the run's emotions: no AUC
        lines += [f"AU measurement checks (validation split; `au_validity`, the mean prototype AUC: "
                  f"{checks['au_validity']}; dead columns: {', '.join(checks['dead']) or 'none'}):", "",
                  scores.to_markdown(index=False), ""]
    lines += _agreement_lines(paths.facs_agreement, "FACS agreement")
    if paths.practice_deck.is_file():
        counts = pd.DataFrame(read_deck(paths.practice_deck)["counts"]).T.rename_axis("practice deck")
        lines += ["Practice page: faces per emotion in each deck (whole: the AU model's, masked: the upper-face model's, "
                  "each answered as labelled for a prototype movement on the face):", "", counts.to_markdown(), ""]
    return lines


def _offset_words(paths: Paths, trained: dict) -> str:
    """The CNN's class offsets (cnn.class_bias) and what they were worth on validation, as a clause; '' without."""
    info = paths.cnn / INFO_FILE
    offsets = read_json(info, "train_cnn").get("class_bias") if info.is_file() else None
    if "val_class_bias_heldout_gain" not in trained or offsets is None:
        return ""
    gain = trained["val_class_bias_heldout_gain"]
    kept = ", ".join(f"{emotion} {value:+.2f}" for emotion, value in offsets.items()) if any(offsets.values()) else (
        "none kept")
    return (f"; macro-F1 {trained['val_macro_f1']:.4f} with its class offsets ({kept}; chosen on one half of the "
            f"validation faces and scored on the other, offsets changed macro-F1 by {gain['macro_f1']:+.4f} and "
            f"accuracy by {gain['accuracy']:+.4f})")


def _concept_lines(paths: Paths) -> list[str]:
    """The concept CNN's checks, where the run's CNN is one (cnn.concepts): fidelity, intervention, weakest concepts."""
    checks = json.loads(paths.evaluate_metrics.read_text()).get("cnn_concepts") if paths.evaluate_metrics.is_file() else None
    if not checks or not paths.concept_fidelity.is_file():
        return []
    weakest = pd.read_csv(paths.concept_fidelity).sort_values("r").head(5)
    return [f"The CNN is a concept model: its answers come from a linear head on {len(pd.read_csv(paths.concept_fidelity))} "
            f"predicted measurements. On the test faces with a measurement, concept fidelity (median Pearson r of "
            f"the 17 AUs, predicted against measured) {checks['concept_fidelity']}; the head's accuracy "
            f"{checks['head_accuracy']} from its predicted concepts, {checks['intervention_accuracy']} with the "
            "measured ones in their place. Its five weakest concepts:", "", weakest.to_markdown(index=False), "",
            *_agreement_lines(paths.concept_facs_agreement, "FACS agreement of the concept CNN's head")]


def _agreement_lines(path: Path, title: str) -> list[str]:
    """A FACS agreement file as a table: per emotion its measurable prototype AUs and how many its top five show."""
    if not path.is_file():
        return []
    agreement = json.loads(path.read_text())
    return [f"{title} (prototype AUs among each emotion's five strongest raising movements):", "",
            pd.DataFrame([{"emotion": e, "measurable prototype AUs": str(a["measurable"]), "found": a["hits"]}
                          for e, a in agreement.items()]).to_markdown(index=False), ""]


def _benchmark_sections() -> list[str]:
    lines = []
    for file in sorted(BENCHMARK_RESULTS.glob("*.json")):
        result = json.loads(file.read_text())
        lines += [f"### {result['name']}", "", f"`{result['command']}` on {result['commit']}, {result['date']}.", ""]
        if result.get("note"):
            lines += [result["note"], ""]
        lines += [pd.DataFrame(result["rows"]).to_markdown(index=False), ""]
    return lines or ["No benchmark results recorded yet (python benchmarks/<name>.py writes them)."]


def render(paths: Paths, page: Path = RESULTS_PAGE) -> str:
    """The results page: the workspace's last run (or the one ``page`` shows) and every benchmark's last output."""
    return "\n".join(["# Results", "", "Generated by `make results` from the workspace's metrics and "
                      f"{BENCHMARK_RESULTS}/; do not edit by hand.", "", PIPELINE_HEADING, "",
                      *_pipeline_section(paths, page), BENCHMARKS_HEADING, "", *_benchmark_sections()]).rstrip() + "\n"


def main() -> None:
    paths = load_paths()
    if not paths.comparison_details.is_file() and kept_pipeline_section(RESULTS_PAGE):
        print(f"results: no pipeline run in this workspace; {RESULTS_PAGE} keeps the run it shows")
    write_text(render(paths), RESULTS_PAGE)
    print(f"results: wrote {RESULTS_PAGE}")


if __name__ == "__main__":
    main()

"""``make compare``: this checkout's experiments side by side, as ``dvc exp show`` lists them (read through DVC's
Python API), in two tables that fit 120 columns: the headline metrics (validation first: choose there), then the
params that differ between the experiments."""

from __future__ import annotations

import sys
from pathlib import Path

import dvc.api
import pandas as pd
import yaml
from dvc.exceptions import DvcException

WIDTH = 120
HEADLINE: dict[str, str] = {
    "cnn.val_accuracy": "cnn val", "cnn.val_concept_fidelity": "fid val", "au_model.val_accuracy": "au val",
    "cnn_tta.accuracy": "cnn", "cnn_tta.macro_f1": "cnn F1", "cnn_route.masked_accuracy": "cnn mask",
    "au_model.accuracy": "au", "au_model.macro_f1": "au F1", "au_route.masked_accuracy": "au mask",
    "cnn_concepts.concept_fidelity": "fidelity", "cnn_concepts.facs_agreement": "FACS cnn", "facs_agreement": "FACS au",
    "cnn.surrogate_agreement": "surrogate",
}
"""Metric (as dvc exp show names it) -> its short header. Validation metrics come first; the test split's are the
ones the results page reports once."""


def flat_params(params_file: Path = Path("params.yaml")) -> set[str]:
    """The dotted names of every param in ``params_file`` ('cnn.concept_weight')."""
    def walk(value: object, prefix: str) -> list[str]:
        if isinstance(value, dict):
            return [name for key, child in value.items() for name in walk(child, f"{prefix}{key}.")]
        return [prefix.removesuffix(".")]
    return set(walk(yaml.safe_load(params_file.read_text()) or {}, ""))


def experiment_tables(rows: list[dict[str, object]], params: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """From ``dvc.api.exp_show()``'s rows: (headline metrics, params whose values differ), one row per experiment
    (the workspace and each commit by their rev), indexed by its name; a running, queued or failed experiment says so
    after its name."""
    names = [str(row.get("Experiment") or row["rev"]) + (f" ({str(row['State']).lower()})" if row.get("State") else "")
             for row in rows]
    table = pd.DataFrame(rows, index=names)
    metrics = table[[m for m in HEADLINE if m in table]].rename(columns=HEADLINE)
    varying = [p for p in sorted(params & set(table.columns)) if table[p].astype(str).nunique(dropna=False) > 1]
    return metrics.replace("!", None), table[varying].astype(str)


def render(table: pd.DataFrame, width: int = WIDTH) -> str:
    """A plain-text table; columns that would pass ``width`` go to further blocks, each repeating the names."""
    if table.columns.empty:
        return "(none)"
    return table.fillna("-").to_string(line_width=width, float_format=lambda v: f"{v:.4f}")


def main() -> None:
    try:
        metrics, params = experiment_tables(dvc.api.exp_show(), flat_params())
    except (DvcException, OSError, yaml.YAMLError) as exc:  # not in the repository root, no params.yaml, ...
        print(f"error: make compare: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}: run it in the "
              "repository root after 'make params' or a run", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"Headline metrics (val = validation split; the rest: test split)\n{render(metrics)}\n")
    print(f"Params that differ\n{render(params)}")


if __name__ == "__main__":
    main()

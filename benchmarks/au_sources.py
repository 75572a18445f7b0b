"""Benchmark: which MediaPipe evidence measures each AU best, on a run's AU table (the choice face_emotion.au.mapping
makes, and the scales of its landmark sources).

    python benchmarks/au_sources.py                                # features/au/table.csv (after make run)
    python benchmarks/au_sources.py --table ../other/features/au/table.csv

For every AU and every source the table holds (the mean of the AU's blendshapes, each landmark measurement tied to
the AU, signed so that more of the AU is larger; the AU column as this table measured it): the prototype AUC on the
validation split (how well it separates the emotions whose EMFACS prototype holds the AU from the rest;
face_emotion.au.validity) and, for landmark sources, the scale fitted on the training faces next to the one the code
uses. AUs without a prototype among the six emotions have no AUC: their source is chosen by FACS's description
alone. Prints one Markdown table and records it for docs/results.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from face_emotion.au.mapping import LANDMARK_SOURCES, fitted_scale
from face_emotion.au.validity import prototype_of
from face_emotion.core.facs import ACTION_UNITS, EMOTIONS, ActionUnit
from face_emotion.core.paths import load_paths
from face_emotion.core.tables import GEOMETRY, read_au_table
from face_emotion.reporting.results import record_benchmark


def candidates(au: ActionUnit, table: pd.DataFrame) -> dict[str, pd.Series]:
    """Every source of ``au`` the table holds: name -> values (more of the AU larger)."""
    found = {"AU column (as measured)": table[au.column]}
    shapes = [f"bs_{name}" for name in au.blendshapes]
    if shapes and set(shapes) <= set(table.columns):
        found["blendshapes: " + ", ".join(au.blendshapes)] = table[shapes].mean(axis=1)
    for column, measurement in GEOMETRY.items():
        if au.number in measurement.rises and column in table.columns:
            found[f"landmarks: {column}"] = table[column]
        if au.number in measurement.falls and column in table.columns:
            found[f"landmarks: {column}, low"] = -table[column]
    return found


def rows(table: pd.DataFrame) -> list[dict[str, object]]:
    """One row per AU and source."""
    measured = table[table.success.astype(bool)]
    val, train = measured[measured.split == "val"], measured[measured.split == "train"]
    result = []
    for au in ACTION_UNITS:
        positive = val.label.isin(prototype_of(au, list(EMOTIONS)))
        source = LANDMARK_SOURCES.get(au.number)
        chosen = f"landmarks: {source.column}" if source else "blendshapes: " + ", ".join(au.blendshapes)
        for name, values in candidates(au, val).items():
            known = values.notna()
            auc = roc_auc_score(positive[known], values[known]) if 0 < positive[known].sum() < known.sum() else np.nan
            row = {"AU": au.column, "source": name + (" (chosen)" if name == chosen else ""),
                   "prototype AUC (val)": round(float(auc), 3), "scale in code (rest, full)": "", "fitted (rest, full)": ""}
            if source and name == chosen and source.column in train.columns:
                fitted = fitted_scale(source.column, train[source.column].to_numpy(), train.label.to_numpy())
                row["scale in code (rest, full)"] = f"{source.rest}, {source.full}"
                row["fitted (rest, full)"] = f"{fitted.rest}, {fitted.full}"
            result.append(row)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=str(load_paths().au_table), help="an AU table (default: the workspace's)")
    args = parser.parse_args()
    table = read_au_table(args.table)
    measured = [row for row in rows(table) if row["source"] == "AU column (as measured)"]
    validity = np.nanmean([row["prototype AUC (val)"] for row in measured])
    note = (f"AU table {args.table}: {int(table.success.astype(bool).sum())} measured faces; the mean prototype AUC "
            f"of its AU columns (au_validity): {validity:.3f}.")
    print(record_benchmark("au_sources", shlex.join(["python", *sys.argv]), rows(table), note=note))
    print(note)


if __name__ == "__main__":
    main()

"""Measuring every usable image of the manifest with the configured AU backend, in parallel."""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator

import pandas as pd
from tqdm import tqdm

from face_emotion.au.mapping import AU_COLUMNS
from face_emotion.au.mediapipe_backend import MediaPipeBackend
from face_emotion.au.openface_csv_backend import OpenFaceCsvBackend
from face_emotion.au.table import ID_COLUMNS, STATUS_COLUMNS
from face_emotion.config import AuParams
from face_emotion.errors import UserError

Backend = MediaPipeBackend | OpenFaceCsvBackend
BACKENDS: dict[str, type[Backend]] = {"mediapipe": MediaPipeBackend, "openface_csv": OpenFaceCsvBackend}

_worker_backend: Backend | None = None


def _backend_class(params: AuParams) -> type[Backend]:
    if params.backend not in BACKENDS:
        raise UserError(f"params: unknown au.backend '{params.backend}' (known: {', '.join(BACKENDS)})")
    return BACKENDS[params.backend]


def _open_backend(params: AuParams) -> Backend:
    return _backend_class(params)(params)


def _init_worker(params: AuParams) -> None:
    """Each worker process opens its own backend once."""
    global _worker_backend
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _worker_backend = _open_backend(params)


def _measure_in_worker(path: str) -> dict[str, object]:
    assert _worker_backend is not None
    return _worker_backend.measure(path)


def _measure_all(paths: list[str], params: AuParams) -> Iterator[dict[str, object]]:
    """Rows in the order of ``paths``, from ``params.workers`` processes (or this one)."""
    if params.workers == 1:
        with _open_backend(params) as backend:
            yield from (backend.measure(p) for p in paths)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(params.workers, initializer=_init_worker, initargs=(params,)) as pool:
        yield from pool.imap(_measure_in_worker, paths, chunksize=32)


def extract(manifest: pd.DataFrame, params: AuParams) -> pd.DataFrame:
    """One row per usable manifest image: AU intensities, blendshapes, success and failure reason."""
    backend = _backend_class(params)
    backend.check(params)
    images = manifest.loc[manifest.status == "ok", ID_COLUMNS].reset_index(drop=True)
    rows = []
    progress = tqdm(total=len(images), desc=f"extract_au ({params.backend})", unit="img", mininterval=2.0)
    with progress:
        for row in _measure_all(images.path.tolist(), params):
            rows.append(row)
            progress.update()
    measured = pd.DataFrame(rows)
    for column in (*AU_COLUMNS, "confidence"):
        if column not in measured:
            measured[column] = float("nan")
    measured["backend"] = params.backend
    measured["backend_version"] = backend.version()
    table = pd.concat([images, measured], axis=1)
    extras = [c for c in measured.columns if c not in STATUS_COLUMNS and c not in AU_COLUMNS]
    return table[ID_COLUMNS + STATUS_COLUMNS + list(AU_COLUMNS) + extras]


def summary(table: pd.DataFrame) -> dict[str, object]:
    """Detected and failed faces per split and class, and failure reasons."""
    per_split = {}
    for split, group in table.groupby("split"):
        per_split[split] = {
            "detected": int(group.success.sum()),
            "failed": int((~group.success).sum()),
            "detection_rate": round(float(group.success.mean()), 4),
            "failed_per_class": {label: int((~g.success).sum()) for label, g in group.groupby("label")},
        }
    return {
        "images": len(table),
        "detected": int(table.success.sum()),
        "detection_rate": round(float(table.success.mean()), 4) if len(table) else 0.0,
        "per_split": per_split,
        "failure_reasons": dict(Counter(table.loc[~table.success, "failure_reason"])),
    }


def summary_metrics(report: dict[str, object]) -> dict[str, object]:
    """Flat headline numbers of the summary, for `dvc metrics show` and `dvc exp show`."""
    per_split: dict[str, dict] = report["per_split"]  # type: ignore[assignment]
    return {
        "images": report["images"],
        "detected": report["detected"],
        "detection_rate": report["detection_rate"],
        **{f"detection_rate_{split}": values["detection_rate"] for split, values in per_split.items()},
    }

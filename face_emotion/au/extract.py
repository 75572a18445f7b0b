"""Measuring every usable image of the manifest with the configured AU backend, in parallel."""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from face_emotion.au.cache import AuCache
from face_emotion.au.mapping import AU_COLUMNS
from face_emotion.au.mediapipe_backend import MediaPipeBackend
from face_emotion.au.openface_csv_backend import OpenFaceCsvBackend
from face_emotion.au.openface_docker import OpenFaceDockerBackend
from face_emotion.au.table import ID_COLUMNS, STATUS_COLUMNS
from face_emotion.config import AuParams
from face_emotion.errors import UserError

Backend = MediaPipeBackend | OpenFaceCsvBackend | OpenFaceDockerBackend
BACKENDS: dict[str, type[Backend]] = {
    "mediapipe": MediaPipeBackend,
    "openface": OpenFaceDockerBackend,
    "openface_csv": OpenFaceCsvBackend,
}

_worker_backend: Backend | None = None
DASK_SHARD = 128
"""Images per Dask task: large enough to amortise scheduling, small enough to spread over workers."""


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


def _measure_shard(paths: list[str], params: AuParams) -> list[dict[str, object]]:
    """Measure a shard of images in a Dask worker process, opening the backend once per process."""
    global _worker_backend
    if _worker_backend is None:
        _init_worker(params)
    return [_measure_in_worker(p) for p in paths]


def _measure_with_dask(paths: list[str], params: AuParams) -> Iterator[dict[str, object]]:
    """Rows in the order of ``paths``, measured in shards on a dask.distributed cluster."""
    from distributed import Client, LocalCluster

    if params.scheduler_address:
        cluster, client = None, Client(params.scheduler_address)
    else:
        cluster = LocalCluster(n_workers=params.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    try:
        shards = [paths[i:i + DASK_SHARD] for i in range(0, len(paths), DASK_SHARD)]
        futures = client.map(_measure_shard, shards, params=params, pure=False)
        for future in futures:
            yield from future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _measure_all(paths: list[str], params: AuParams) -> Iterator[dict[str, object]]:
    """Rows in the order of ``paths``: one container run for batch backends, else ``params.workers`` processes."""
    if params.executor == "dask":
        yield from _measure_with_dask(paths, params)
        return
    if _backend_class(params) is OpenFaceDockerBackend:
        with _open_backend(params) as backend:
            yield from backend.measure_many(paths)
        return
    if params.workers == 1:
        with _open_backend(params) as backend:
            yield from (backend.measure(p) for p in paths)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(params.workers, initializer=_init_worker, initargs=(params,)) as pool:
        yield from pool.imap(_measure_in_worker, paths, chunksize=32)


def _measure_new(images: pd.DataFrame, params: AuParams) -> pd.DataFrame:
    """Measure one image per content hash in ``images``, with a progress bar; rows indexed by md5."""
    unique = images.drop_duplicates("md5")
    if unique.empty:
        return pd.DataFrame(index=pd.Index([], name="md5"))
    rows = []
    progress = tqdm(total=len(unique), desc=f"extract_au ({params.backend})", unit="img", mininterval=2.0)
    with progress:
        for row in _measure_all(unique.path.tolist(), params):
            rows.append(row)
            progress.update()
    return pd.DataFrame(rows, index=pd.Index(unique.md5, name="md5"))


def extract(manifest: pd.DataFrame, params: AuParams, cache_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per usable manifest image: AU intensities, blendshapes, success and failure reason.

    With ``cache_dir``, images whose content was measured before with the same settings are not measured again.
    """
    backend = _backend_class(params)
    backend.check(params)
    images = manifest.loc[manifest.status == "ok", [*ID_COLUMNS, "md5"]].reset_index(drop=True)
    cache = AuCache(cache_dir, params, backend.version()) if cache_dir is not None else None
    known = cache.load() if cache else pd.DataFrame(index=pd.Index([], name="md5"))
    fresh = _measure_new(images[~images.md5.isin(known.index)], params)
    if not fresh.empty or known.empty:
        known = pd.concat([known, fresh]) if not known.empty else fresh
        if cache:
            cache.save(known)
    reused = len(images) - int(images.md5.isin(fresh.index).sum())
    if cache and reused:
        print(f"extract_au: {reused} images reused from {cache.path}")
    measured = known.loc[images.md5].reset_index(drop=True)
    images = images.drop(columns="md5")
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

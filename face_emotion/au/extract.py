"""Measuring every usable image of the manifest with the configured AU backend, in parallel."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from face_emotion.au.backends import BACKENDS, AuBackend
from face_emotion.au.cache import AuCache
from face_emotion.core.config import AuParams, ComputeParams
from face_emotion.core.lifetime import end_with_parent
from face_emotion.core.tables import AU_COLUMNS, ID_COLUMNS, STATUS_COLUMNS, USED

_worker_backend: AuBackend | None = None
CACHE_CHUNK = 1000
"""Measurements are added to the cache every this many images (and when the run is interrupted)."""
DASK_SHARD = 128
"""Images per Dask task: large enough to amortise scheduling, small enough to spread over workers."""
LOCAL_DASK = "local"
"""compute.dask_scheduler value that starts a local Dask cluster of compute.au_workers processes."""


def _open_backend(params: AuParams) -> AuBackend:
    return BACKENDS[params.backend](params)


def _open_worker_backend(params: AuParams) -> None:
    """Each worker process opens its own backend once."""
    global _worker_backend
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _worker_backend = _open_backend(params)


def _init_pool_worker(params: AuParams) -> None:
    """A pool worker: Ctrl-C is the parent's to handle (no traceback per worker), and it ends with its parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_parent()
    _open_worker_backend(params)


def _measure_in_worker(path: str) -> dict[str, object]:
    assert _worker_backend is not None
    return _worker_backend.measure(path)


def _measure_shard(paths: list[str], params: AuParams) -> list[dict[str, object]]:
    """Measure a shard of images in a Dask worker process, opening the backend once per process."""
    global _worker_backend
    if _worker_backend is None:
        _open_worker_backend(params)
    return [_measure_in_worker(p) for p in paths]


def _measure_with_dask(paths: list[str], params: AuParams, compute: ComputeParams) -> Iterator[dict[str, object]]:
    """Rows in the order of ``paths``, measured in shards on a dask.distributed cluster."""
    from distributed import Client, LocalCluster

    if compute.dask_scheduler != LOCAL_DASK:
        cluster, client = None, Client(compute.dask_scheduler)
    else:
        cluster = LocalCluster(n_workers=compute.au_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
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


def _measure_all(paths: list[str], params: AuParams, compute: ComputeParams) -> Iterator[dict[str, object]]:
    """Rows in the order of ``paths``: on a Dask cluster, in ``compute.au_workers`` processes, or in this one (one
    ``measure_many`` call for backends that take a whole batch)."""
    parallel = BACKENDS[params.backend].parallel
    if compute.dask_scheduler is not None and parallel:
        yield from _measure_with_dask(paths, params, compute)
        return
    if compute.au_workers == 1 or not parallel:
        with _open_backend(params) as backend:
            yield from backend.measure_many(paths)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(compute.au_workers, initializer=_init_pool_worker, initargs=(params,)) as pool:
        yield from pool.imap(_measure_in_worker, paths, chunksize=32)


def _measure_new(images: pd.DataFrame, params: AuParams, compute: ComputeParams, cache: AuCache | None) -> pd.DataFrame:
    """Measure one image per content hash in ``images``, with a progress bar; rows indexed by md5. Every CACHE_CHUNK
    images, and when interrupted, what was measured goes to the cache."""
    unique = images.drop_duplicates("md5")
    rows: list[dict[str, object]] = []
    saved = 0

    def measured(start: int = 0) -> pd.DataFrame:
        return pd.DataFrame(rows[start:], index=pd.Index(unique.md5.iloc[start:len(rows)], name="md5"))

    if unique.empty:
        return measured()
    progress = tqdm(total=len(unique), desc=f"extract_au ({params.backend})", unit="img", mininterval=2.0)
    try:
        with progress:
            for row in _measure_all(unique.path.tolist(), params, compute):
                rows.append(row)
                progress.update()
                if cache is not None and len(rows) - saved >= CACHE_CHUNK:
                    cache.add(measured(saved))
                    saved = len(rows)
    finally:
        if cache is not None and len(rows) > saved:
            cache.add(measured(saved))
    return measured()


def extract(manifest: pd.DataFrame, params: AuParams, compute: ComputeParams, cache_dir: str | Path | None = None
            ) -> pd.DataFrame:
    """One row per usable manifest image: AU intensities, blendshapes, success and failure reason.

    With ``cache_dir``, images whose content was measured before with the same settings are not measured again.
    """
    backend = BACKENDS[params.backend]
    backend.check(params)
    version = backend.version(params)
    images = manifest.loc[manifest.status == USED, [*ID_COLUMNS, "md5"]].reset_index(drop=True)
    cache = AuCache(cache_dir, params, version) if cache_dir is not None else None
    known = cache.load() if cache else pd.DataFrame(index=pd.Index([], name="md5"))
    fresh = _measure_new(images[~images.md5.isin(known.index)], params, compute, cache)
    if known.empty or not fresh.empty:
        known = fresh if known.empty else pd.concat([known, fresh])
    reused = len(images) - int(images.md5.isin(fresh.index).sum())
    if cache and reused:
        print(f"extract_au: {reused} images reused from {cache.folder}")
    measured = known.loc[images.md5].reset_index(drop=True)
    images = images.drop(columns="md5")
    for column in (*AU_COLUMNS, "confidence"):
        if column not in measured:
            measured[column] = float("nan")
    measured["unmeasured"] = measured["unmeasured"].fillna("") if "unmeasured" in measured else ""
    measured["backend"] = params.backend
    measured["backend_version"] = version
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


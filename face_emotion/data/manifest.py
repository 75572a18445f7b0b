"""The manifest: every file under the data folder accounted for, a seeded split, duplicates flagged, a quality report.

scikit-learn (about 0.8 s to import) is imported by the functions that split: stages/check_params.py reads this
module's checks before every run, and runs without it."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from face_emotion.core.config import AuTableData, DataParams, ImageData, OpenFaceVideosData, VideoData
from face_emotion.core.errors import UserError
from face_emotion.core.tables import AU_COLUMNS, EXCLUDED, MANIFEST_COLUMNS, REJECTED, USED
from face_emotion.data.images import ImageRejected, is_image_name, read_image
from face_emotion.data.openface_csv import most_confident, read_openface_csv
from face_emotion.data.video import VideoRejected, is_video_name
from face_emotion.data.video_faces import frame_path, write_face_crops

SOURCE_SPLITS = ("train", "test")


def _inspect(path: Path) -> dict[str, object]:
    """Hash and decode one file; a failure becomes a rejection with its reason."""
    content = path.read_bytes()
    row: dict[str, object] = {"md5": hashlib.md5(content).hexdigest(), "bytes": len(content)}
    if not is_image_name(path):
        return {**row, "status": REJECTED, "reason": f"not an image file ({path.suffix or 'no extension'})"}
    try:
        image = read_image(path)
    except ImageRejected as exc:
        return {**row, "status": REJECTED, "reason": str(exc)}
    pixels = np.asarray(image)
    pixel_md5 = hashlib.md5(f"{pixels.shape}".encode() + pixels.tobytes()).hexdigest()
    return {**row, "status": USED, "reason": "", "pixel_md5": pixel_md5, "width": image.width,
            "height": image.height, "blank": bool(pixels.min() == pixels.max())}


def check_source(params: DataParams) -> None:
    """A one-line UserError unless the data is where ``params`` says, in its layout, with a folder (or label column)
    for what the params ask for; cheap: no file is decoded."""
    root = Path(params.root)
    if isinstance(params, OpenFaceVideosData | VideoData):
        if not root.is_dir():
            raise UserError(f"data folder '{root}' not found: run 'dvc pull' or set data.root")
        missing = [c for c in params.classes if not (root / c).is_dir()]
        video = "<video>.csv" if isinstance(params, OpenFaceVideosData) else "<video>"
        if missing:
            raise UserError(f"data folder '{root}' has no '{missing[0]}/' folder (expected {root}/<class>/{video} "
                            "for each of data.classes)")
        return
    if isinstance(params, AuTableData):
        if not root.is_file():
            raise UserError(f"AU table '{root}' not found: run 'dvc pull' or set data.root")
        try:
            header = [str(c).strip() for c in pd.read_csv(root, nrows=0).columns]
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise UserError(f"AU table '{root}' cannot be parsed: {str(exc).splitlines()[0]}") from None
        for what, column in (("label", params.label_column), ("group", params.group_column)):
            if column is not None and column not in header:
                raise UserError(f"AU table '{root}' has no {what} column '{column}'")
        return
    if not root.is_dir():
        raise UserError(f"data folder '{root}' not found: run 'dvc pull' or set data.root")
    missing = [f"{s}/{c}" for s in SOURCE_SPLITS for c in ("", *params.classes) if not (root / s / c).is_dir()]
    if missing:
        raise UserError(f"data folder '{root}' has no '{missing[0].rstrip('/')}/' folder "
                        f"(expected {root}/train/<class>/ and {root}/test/<class>/ for each of data.classes)")


def scan(params: ImageData) -> pd.DataFrame:
    """One row per file under ``params.root``: used ('ok'), 'excluded' or 'rejected', with a reason."""
    check_source(params)
    root = Path(params.root)
    rows = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        parts = path.relative_to(root).parts
        split = parts[0]
        label = parts[1] if len(parts) == 3 else ""
        row: dict[str, object] = {"path": path.as_posix(), "label": label, "split": split}
        if split not in SOURCE_SPLITS:
            rows.append({**row, "status": EXCLUDED, "reason": f"outside train/ and test/ ({split})"})
        elif len(parts) != 3:
            rows.append({**row, "status": REJECTED, "reason": "not inside a class folder (<split>/<class>/<file>)"})
        elif label not in params.classes:
            rows.append({**row, "status": EXCLUDED, "reason": f"class '{label}' not in data.classes"})
        else:
            rows.append({**row, **_inspect(path)})
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS).assign(group="")  # every image is its own group


def _cap(manifest: pd.DataFrame, max_per_class: int | None, seed: int) -> pd.DataFrame:
    """Exclude all but a seeded sample of ``max_per_class`` usable files per class and split."""
    if max_per_class is None:
        return manifest
    manifest = manifest.copy()
    usable = manifest[manifest.status == USED]
    for _, group in usable.groupby(["split", "label"]):
        if len(group) > max_per_class:
            dropped = group.sample(n=len(group) - max_per_class, random_state=seed).index
            manifest.loc[dropped, ["status", "reason"]] = [EXCLUDED, f"over data.max_per_class={max_per_class}"]
    return manifest


def _grouped_split(rows: pd.DataFrame, fraction: float, seed: int, split: str, manifest: pd.DataFrame) -> pd.DataFrame:
    """Move whole groups of ``rows`` (a video's frames, a subject's faces), with their unused rows, to ``split``: one
    fold of a seeded, class-stratified group k-fold with k = 1 / ``fraction``, so about that share of the rows."""
    from sklearn.model_selection import StratifiedGroupKFold  # here, not above: see the module's docstring

    folds = max(2, round(1 / fraction))
    if rows.group.nunique() < folds:
        raise UserError(f"too few groups ({rows.group.nunique()}) in data.group_column for a {split} split of {fraction:g}")
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    _, chosen = next(splitter.split(rows.index, rows.label, groups=rows.group))
    manifest = manifest.copy()
    manifest.loc[manifest.group.isin(rows.group.iloc[chosen]), "split"] = split  # the groups' unused rows too
    return manifest


def validation_size(counts: pd.Series, val_fraction: float) -> int:
    """How many of the training images (``counts`` per class) go to the validation split; one line when a seeded,
    class-stratified split cannot be made: a class with fewer than two, or too few left to train on (one per
    class on each side)."""
    if counts.empty or counts.min() < 2:
        scarce = f"{counts.idxmin()}: {counts.min()}" if not counts.empty else "none at all"
        raise UserError(f"too few usable training images for a validation split ({scarce}; at least 2 per class)")
    total = int(counts.sum())
    n_val = max(round(total * val_fraction), len(counts))
    if total - n_val < len(counts):
        raise UserError(f"data.val_fraction={val_fraction:g} leaves {total - n_val} of {total} training images to train "
                        f"on, fewer than one per class ({len(counts)}): lower it")
    return n_val


def check_split(params: DataParams) -> None:
    """For face images in folders: a one-line UserError when the validation split cannot be made from the files
    there (at most data.max_per_class per class), before any stage runs. Cheap: files are counted, not read; a file
    prepare rejects later can still make it fail there."""
    if not isinstance(params, ImageData) or params.val_fraction == 0:
        return
    root = Path(params.root) / "train"
    counts = pd.Series({label: sum(1 for p in (root / label).rglob("*") if p.is_file()) for label in params.classes})
    validation_size(counts.clip(upper=params.max_per_class) if params.max_per_class else counts, params.val_fraction)


def _split_validation(manifest: pd.DataFrame, val_fraction: float, seed: int) -> pd.DataFrame:
    """Move a seeded share of the usable training files to split 'val' (none for 0): class-stratified, or whole
    groups when the rows have groups."""
    if val_fraction == 0:
        return manifest
    train = manifest[(manifest.status == USED) & (manifest.split == "train")]
    if (train.group != "").any():
        return _grouped_split(train, val_fraction, seed, "val", manifest)
    from sklearn.model_selection import train_test_split  # here, not above: see the module's docstring

    manifest = manifest.copy()
    n_val = validation_size(train.label.value_counts(), val_fraction)
    _, val_index = train_test_split(train.index, test_size=n_val, stratify=train.label, random_state=seed)
    manifest.loc[val_index, "split"] = "val"
    return manifest


def _mark_duplicates(manifest: pd.DataFrame) -> pd.DataFrame:
    """Flag val images with an exact pixel copy in train, and test images with one in train or val."""
    manifest = manifest.copy()
    ok = manifest.status == USED
    fit_hashes = set(manifest.loc[ok & (manifest.split == "train"), "pixel_md5"])
    source_hashes = fit_hashes | set(manifest.loc[ok & (manifest.split == "val"), "pixel_md5"])
    in_fit = (manifest.split == "val") & manifest.pixel_md5.isin(fit_hashes)
    in_source = (manifest.split == "test") & manifest.pixel_md5.isin(source_hashes)
    manifest["in_train"] = ok & (in_fit | in_source)
    return manifest


def _au_hashes(table: pd.DataFrame) -> list[str]:
    """Per row of an AU table, a hash of its 17 AU values: what a pixel hash is for an image (duplicates)."""
    return [hashlib.md5(",".join(f"{v:.4f}" for v in values).encode()).hexdigest()
            for values in table[list(AU_COLUMNS)].to_numpy()]


def table_row_path(table: str | Path, row: int) -> str:
    """The manifest path of row ``row`` (0-based) of an AU table: '<table>#<row>'."""
    return f"{Path(table).as_posix()}#{row}"


def scan_au_table(params: AuTableData) -> pd.DataFrame:
    """One manifest row per AU-table row; unusable rows (NaN, out of range, unknown label) rejected with a reason."""
    check_source(params)
    root = Path(params.root)
    table = read_openface_csv(root)
    column, codes = params.label_column, params.label_codes
    code = pd.to_numeric(table[column], errors="coerce")
    known = code.isin(range(len(codes)))
    labels = code.where(known, 0).astype(int).map(dict(enumerate(codes))).where(known, "")
    row_hash = _au_hashes(table)
    manifest = pd.DataFrame({
        "path": [table_row_path(root, i) for i in range(len(table))],
        "label": labels,
        "split": "train",
        "status": USED,
        "reason": table.failure_reason,
        "md5": row_hash,
        "pixel_md5": row_hash,
        "blank": False,
        "group": table[params.group_column].astype(str) if params.group_column else "",
    }, columns=MANIFEST_COLUMNS)
    unknown = ~known & (manifest.reason == "")  # a row rejected already keeps its first reason
    manifest.loc[unknown, "reason"] = [f"unknown label code {str(table[column].iloc[i])!r} in '{column}'"
                                       for i in np.flatnonzero(unknown)]
    manifest.loc[manifest.reason != "", "status"] = REJECTED
    unused = (manifest.status == USED) & ~manifest.label.isin(params.classes)
    manifest.loc[unused, ["status", "reason"]] = [EXCLUDED, "class not in data.classes"]
    return manifest


def _video_rows(path: Path, label: str, frame_step: int) -> pd.DataFrame:
    """Manifest rows of one FeatureExtraction CSV: a row per frame, every ``frame_step``-th one used (the most
    confident face where OpenFace tracked several), failed frames rejected with OpenFace's reason."""
    table = read_openface_csv(path)
    if table.attrs["kind"] != "FeatureExtraction":
        raise UserError("not an OpenFace FeatureExtraction table (no 'frame' column)")
    row_hash = _au_hashes(table)
    rows = pd.DataFrame({"path": [table_row_path(path, i) for i in range(len(table))], "label": label,
                         "split": "train", "status": USED, "reason": table.failure_reason, "md5": row_hash,
                         "pixel_md5": row_hash, "blank": False, "group": path.as_posix()}, columns=MANIFEST_COLUMNS)
    rows.loc[rows.reason != "", "status"] = REJECTED
    frame = pd.to_numeric(table.frame, errors="coerce")
    between = ((frame - frame.min()) % frame_step != 0).to_numpy()
    rows.loc[between, ["status", "reason"]] = [EXCLUDED, f"between analysed frames (data.frame_step={frame_step})"]
    others = ~table.index.isin(most_confident(table, by="frame").index) & ~between
    rows.loc[others, ["status", "reason"]] = [EXCLUDED, "another face of the frame is more confident"]
    return rows


def _class_folder_files(params: OpenFaceVideosData | VideoData) -> Iterator[tuple[Path, dict[str, object]]]:
    """Each file under ``params.root`` with its manifest row: rejected or excluded, with the reason, when it is not in
    one of data.classes' folders; else rejected without a reason yet, for the caller to use or to say why not."""
    root = Path(params.root)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        inside = path.relative_to(root).parts
        label = inside[0] if len(inside) == 2 else ""
        row = {"path": path.as_posix(), "label": label, "split": "train", "status": REJECTED, "reason": "",
               "group": path.as_posix()}
        if len(inside) != 2:
            row["reason"] = "not inside a class folder (<class>/<video>)"
        elif label not in params.classes:
            row.update(status=EXCLUDED, reason=f"class '{label}' not in data.classes")
        yield path, row


def _manifest_of(parts: list[pd.DataFrame]) -> pd.DataFrame:
    manifest = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=MANIFEST_COLUMNS)
    return manifest.reindex(columns=MANIFEST_COLUMNS).fillna({"reason": "", "md5": "", "pixel_md5": "", "blank": False})


def scan_openface_videos(params: OpenFaceVideosData) -> pd.DataFrame:
    """One manifest row per frame of every video table under ``params.root``; a file that is no such table is one
    rejected row with the reason."""
    check_source(params)
    parts = []
    for path, row in _class_folder_files(params):
        if not row["reason"] and path.suffix.lower() != ".csv":
            row["reason"] = f"not a CSV file ({path.suffix or 'no extension'})"
        if row["reason"]:
            parts.append(pd.DataFrame([row]))
            continue
        try:
            parts.append(_video_rows(path, str(row["label"]), params.frame_step))
        except UserError as exc:
            parts.append(pd.DataFrame([{**row, "reason": str(exc).replace(f"OpenFace CSV {path} ", "")}]))
    return _manifest_of(parts)


def scan_videos(params: VideoData, crops_dir: Path) -> pd.DataFrame:
    """One manifest row per analysed frame of every video under ``params.root``: its face crop, written under
    ``crops_dir``/<class>/, or the frame rejected when no face is found in it; a file that cannot be read as a video
    is one rejected row with the reason."""
    check_source(params)
    parts = []
    for path, row in _class_folder_files(params):
        if not row["reason"] and not is_video_name(path):
            row["reason"] = f"not a video file ({path.suffix or 'no extension'})"
        if row["reason"]:
            parts.append(pd.DataFrame([row]))
            continue
        frames = []
        try:
            for frame in write_face_crops(path, crops_dir / str(row["label"]), params.frame_step):
                frames.append({**row, "path": frame_path(path, frame.index), "reason": frame.reason} if frame.crop is None
                              else {**row, "path": frame.crop.as_posix(), **_inspect(frame.crop)})
        except VideoRejected as exc:
            frames = [{**row, "reason": str(exc)}]
        parts.append(pd.DataFrame(frames or [{**row, "reason": "no frame could be decoded"}]))
    return _manifest_of(parts)


def _hold_out_test(manifest: pd.DataFrame, test_fraction: float, seed: int) -> pd.DataFrame:
    """A seeded random (not stratified) test hold-out of the usable rows, the original project's protocol; whole
    groups when the rows have groups."""
    rows = manifest[manifest.status == USED]
    if (rows.group != "").any():
        return _grouped_split(rows, test_fraction, seed, "test", manifest)
    from sklearn.model_selection import train_test_split  # here, not above: see the module's docstring

    manifest = manifest.copy()
    usable = manifest.index[manifest.status == USED]
    _, test_index = train_test_split(usable, test_size=test_fraction, random_state=seed)
    manifest.loc[test_index, "split"] = "test"
    return manifest


def _check_usable(manifest: pd.DataFrame, source: str) -> None:
    """A one-line UserError when fewer than two rows of an AU table or video tables can be used, with the most
    common reason; ``source`` names the data in the message."""
    if (manifest.status == USED).sum() < 2:
        reasons = Counter(manifest.loc[manifest.status != USED, "reason"]).most_common(1)
        raise UserError(f"{source} has no usable rows to split"
                        + (f" (most common reason, {reasons[0][1]} rows: {reasons[0][0]})" if reasons else ""))


def build_manifest(params: DataParams, seed: int, crops_dir: Path | None = None) -> pd.DataFrame:
    """Scan, cap, split and flag duplicates: the full manifest of the prepare stage. Videos' face crops are written
    to ``crops_dir``."""
    if isinstance(params, AuTableData):
        manifest = scan_au_table(params)
        _check_usable(manifest, f"AU table '{params.root}'")
        manifest = _hold_out_test(manifest, params.test_fraction, seed)
    elif isinstance(params, OpenFaceVideosData | VideoData):
        if isinstance(params, VideoData):
            if crops_dir is None:
                raise ValueError("videos need a folder for their face crops")
            manifest = scan_videos(params, crops_dir)
        else:
            manifest = scan_openface_videos(params)
        _check_usable(manifest, f"video folder '{params.root}'")
        manifest = _grouped_split(manifest[manifest.status == USED], params.test_fraction, seed, "test", manifest)
    else:
        manifest = scan(params)
    usable = manifest[manifest.status == USED]
    for split in SOURCE_SPLITS:
        present = set(usable.loc[usable.split == split, "label"])
        absent = [c for c in params.classes if c not in present]
        if absent:
            raise UserError(f"no usable {split} faces of class '{absent[0]}' in {params.root}")
    manifest = _cap(manifest, params.max_per_class, seed)
    manifest = _split_validation(manifest, params.val_fraction, seed)
    return _mark_duplicates(manifest)


def quality_report(manifest: pd.DataFrame) -> dict[str, object]:
    """Counts per split and class, rejections and exclusions by reason, and duplicates."""
    ok = manifest[manifest.status == USED]
    counts = {split: {label: int(n) for label, n in group.label.value_counts().sort_index().items()}
              for split, group in ok.groupby("split")}
    within = {split: int(group.pixel_md5.duplicated().sum()) for split, group in ok.groupby("split")}
    return {
        "files": len(manifest),
        "used": len(ok),
        "rejected": int((manifest.status == REJECTED).sum()),
        "excluded": int((manifest.status == EXCLUDED).sum()),
        "counts": counts,
        "rejected_reasons": dict(Counter(manifest.loc[manifest.status == REJECTED, "reason"])),
        "excluded_reasons": dict(Counter(manifest.loc[manifest.status == EXCLUDED, "reason"])),
        "duplicates_within_split": within,
        "duplicates_of_train": {split: int(group.in_train.sum()) for split, group in ok.groupby("split") if split != "train"},
        "blank_images": int(ok.blank.fillna(False).astype(bool).sum()),
        "groups_per_split": {split: int(group.group.nunique()) for split, group in ok.groupby("split")
                             if (group.group != "").any()},
    }


def quality_markdown(report: dict[str, object], manifest: pd.DataFrame) -> str:
    """The quality report as a Markdown page, listing every rejected file."""
    counts: dict[str, dict[str, int]] = report["counts"]  # type: ignore[assignment]
    labels = sorted({label for per_split in counts.values() for label in per_split})
    splits = [s for s in ("train", "val", "test") if s in counts]
    entries = "rows" if manifest.path.str.contains("#", regex=False).any() else "files"  # of AU or video tables
    lines = ["# Data quality", "",
             f"{report['files']} {entries}: {report['used']} used, {report['rejected']} rejected, "
             f"{report['excluded']} excluded.", "",
             "| class | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
    lines += [f"| {label} | " + " | ".join(str(counts[s].get(label, 0)) for s in splits) + " |" for label in labels]
    lines += ["", f"Exact duplicates within a split: {report['duplicates_within_split']}; "
              f"images with an exact copy in train: {report['duplicates_of_train']}; blank images: {report['blank_images']}.", ""]
    if report["groups_per_split"]:
        lines += [f"Groups (videos, or rows sharing data.group_column) per split, none in two splits: "
                  f"{report['groups_per_split']}.", ""]
    lines += ["## Excluded", ""] + [f"- {n} x {reason}" for reason, n in report["excluded_reasons"].items()]  # type: ignore[union-attr]
    rejected = manifest[manifest.status == REJECTED]
    lines += ["", "## Rejected", ""] + [f"- `{row.path}`: {row.reason}" for row in rejected.itertuples()]
    return "\n".join(lines) + "\n"

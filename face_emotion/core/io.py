"""Writing outputs safely (under a temporary name, then renamed: an interrupted stage leaves nothing half-written),
their sizes, and reading the small JSON side files back."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from face_emotion.core.errors import UserError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` (same suffix); rename it onto ``target`` if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes the file private; give it the usual permissions
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary directory beside ``target``; swap it in for ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp makes the folder private; give it the usual permissions
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_json(data: object, target: str | Path) -> None:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path, stage: str) -> dict:
    """A JSON object written by ``stage`` (a side file: settings, details, model info); missing, damaged, not UTF-8
    or not an object is one line naming the file and the command that writes it again."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path} not found: run 'dvc repro {stage}'") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path} is damaged ({type(exc).__name__}: {str(exc).splitlines()[0][:100]}): rebuild it "
                        f"with 'dvc repro --force {stage}'") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is damaged (a JSON {type(data).__name__}, not an object): rebuild it with "
                        f"'dvc repro --force {stage}'")
    return data


def write_csv(frame: pd.DataFrame, target: str | Path) -> None:
    """Write ``frame`` as CSV without its index, atomically."""
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False)


class CsvRows:
    """A CSV written as its rows come (the header once), under a temporary name beside ``target``: ``finish`` renames
    it onto ``target``; ``keep_partial`` renames what was written to a free ``<stem>.partial[.n]<suffix>`` instead
    (a run that failed late keeps what it had done) and returns that path."""

    def __init__(self, target: str | Path) -> None:
        self.target = Path(target)
        fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent)
        os.close(fd)
        self.tmp = Path(name)
        self._complete = (0, 0)
        """(rows, bytes) of the file that whole calls of ``add`` wrote: set in one assignment, so that a Ctrl-C
        between the write and the count cannot leave them apart."""

    @property
    def rows(self) -> int:
        """Rows added so far."""
        return self._complete[0]

    def add(self, frame: pd.DataFrame) -> None:
        """Append ``frame``'s rows (its columns: the header, written with the first rows)."""
        text = frame.to_csv(index=False, header=not self.rows).encode()
        with self.tmp.open("ab") as stream:
            stream.write(text)
        self._complete = (self.rows + len(frame), self._complete[1] + len(text))

    def finish(self) -> None:
        os.chmod(self.tmp, 0o666 & ~_UMASK)
        os.replace(self.tmp, self.target)

    def keep_partial(self) -> Path | None:
        """What whole calls of ``add`` wrote, under a new name (None, and nothing kept, when no row was): rows an
        interrupted ``add`` wrote in part or in whole are cut off, so the file holds ``rows`` rows."""
        if not self.rows:
            self.tmp.unlink(missing_ok=True)
            return None
        os.truncate(self.tmp, self._complete[1])
        stem, suffix, number = self.target.stem, self.target.suffix, 1
        partial = self.target.with_name(f"{stem}.partial{suffix}")
        while partial.exists():
            number += 1
            partial = self.target.with_name(f"{stem}.partial.{number}{suffix}")
        os.chmod(self.tmp, 0o666 & ~_UMASK)
        os.replace(self.tmp, partial)
        return partial


def write_text(text: str, target: str | Path) -> None:
    """Write ``text`` to ``target``, atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def size_mb(path: str | Path) -> float:
    """Size on disk of a file, or of every file in a folder, in MB."""
    path = Path(path)
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(f.stat().st_size for f in files) / 1e6, 3)

"""Which params a stage reads, recorded while it runs when ``FACE_EMOTION_PARAM_READS`` names a file: the pipeline
test compares them with the params dvc.yaml declares for the stage, so a param a stage reads but does not declare
(changing it would not rerun the stage) fails a test. Off by default: nothing is patched."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

READS_ENV = "FACE_EMOTION_PARAM_READS"


def _sections(section: object, prefix: str = "") -> list[tuple[object, str]]:
    """Each section under ``section`` (the Params object itself first) with the dotted prefix of its fields."""
    found = [(section, prefix)]
    for field in dataclasses.fields(section):  # type: ignore[arg-type]
        value = getattr(section, field.name)
        if dataclasses.is_dataclass(value):
            found += _sections(value, f"{prefix}{field.name}.")
    return found


@contextmanager
def recorded(params: object, stage: str) -> Iterator[None]:
    """Within: every read of a param's value (not of a section: its fields count) is noted as its dotted name; at the
    end one JSON line {stage, reads} is appended to the file ``FACE_EMOTION_PARAM_READS`` names."""
    file = os.environ.get(READS_ENV)
    if not file:
        yield
        return
    reads: set[str] = set()
    sections = _sections(params)
    # by instance, not type: a model file's own params (the same dataclass, read as it loads) are not params.yaml's
    prefixes = {id(section): prefix for section, prefix in sections}
    patched = {type(section) for section, _ in sections}
    for cls in patched:
        names = {field.name for field in dataclasses.fields(cls)}

        def noting(self: object, name: str, _get=cls.__getattribute__, _names=names) -> object:
            value = _get(self, name)
            prefix = prefixes.get(id(self))
            if prefix is not None and name in _names and not dataclasses.is_dataclass(value):
                reads.add(prefix + name)
            return value

        cls.__getattribute__ = noting  # type: ignore[method-assign]
    try:
        yield
    finally:
        for cls in patched:
            del cls.__getattribute__  # back to the inherited one (dataclasses define none)
        with Path(file).open("a", encoding="utf-8") as out:
            out.write(json.dumps({"stage": stage, "reads": sorted(reads)}) + "\n")


def covered(read: str, declared: list[str]) -> bool:
    """Whether a read param ('mask.styles') is among dvc.yaml's ``declared`` params of a stage ('mask' or itself)."""
    return any(read == name or read.startswith(f"{name}.") for name in declared)

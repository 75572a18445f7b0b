"""What every AU backend offers: measure one image (or a batch) into one AU-table row, as a context manager."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, ClassVar


class AuBackend:
    """A way of measuring AUs. Rows hold ``success``, ``failure_reason`` and, when measured, the AU*_r intensities
    and any extras; a face that cannot be measured is a row with its reason, never an exception."""

    name: ClassVar[str]
    extras: ClassVar[tuple[str, ...]] = ()
    """The AU-table columns it measures besides the 17 AUs (an AU model's features may use only these)."""
    parallel: ClassVar[bool] = True
    """Whether images can be spread over worker processes (False: one ``measure_many`` call takes them all)."""

    @classmethod
    def version(cls, params: Any) -> str:
        """Recorded beside every measurement and part of the cache key."""
        raise NotImplementedError

    @classmethod
    def check(cls, params: Any) -> None:
        """Fail with one line (UserError) before any work starts, when the backend cannot run."""

    def __init__(self, params: Any) -> None:
        self.params = params

    def __enter__(self) -> AuBackend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Release what the backend holds (a model, a connection)."""

    def measure(self, path: str) -> dict[str, object]:
        """The AU-table row of one image."""
        raise NotImplementedError

    def measure_many(self, paths: Iterable[str]) -> Iterator[dict[str, object]]:
        """Rows in the order of ``paths``."""
        return map(self.measure, paths)

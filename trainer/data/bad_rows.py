"""Malformed input rows: stop at the first one with its file, line and reason, or skip and
count them (``--skip-bad-rows``)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from trainer.data.sources import DatasetError

log = logging.getLogger(__name__)

# Skipped rows logged one by one (file:line and reason) per file; past this many only the
# counts go on, so that a wholly malformed file cannot flood the log.
LOGGED_ROWS = 100


class MalformedRowError(DatasetError):
    """A row of an input file cannot be read; the message names the file, line and reason."""

    def __init__(self, path: Path, line: int, reason: str):
        self.path, self.line, self.reason = Path(path), line, reason
        super().__init__(
            f"{path}:{line}: {reason} (fix the row, or pass --skip-bad-rows to skip and count "
            "malformed rows)"
        )


class BadRows:
    """Collects the malformed rows of one file: raises on the first one unless ``skip``."""

    def __init__(self, path: Path, skip: bool):
        self.path = Path(path)
        self.skip = skip
        self.by_kind: Counter[str] = Counter()
        self.lines: list[int] = []  # the first LOGGED_ROWS skipped lines, for the report

    def report(self, line: int, kind: str, detail: str) -> None:
        """A malformed row: ``kind`` is the counted reason ("wrong column count", ...),
        ``detail`` the row-specific explanation."""
        if not self.skip:
            raise MalformedRowError(self.path, line, f"{kind}: {detail}")
        total = self.total
        if total < LOGGED_ROWS:
            log.warning("%s:%d: skipping malformed row (%s: %s)", self.path, line, kind, detail)
        elif total == LOGGED_ROWS:
            log.warning(
                "%s: more than %d malformed rows; further ones are counted, not logged",
                self.path,
                LOGGED_ROWS,
            )
        self.by_kind[kind] += 1
        if len(self.lines) < LOGGED_ROWS:
            self.lines.append(line)

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    def counts(self, prefix: str) -> dict[str, int]:
        """Skipped rows as statistics: the total and one entry per reason."""
        if not self.skip:
            return {}
        return {
            f"{prefix}:bad_rows_skipped": self.total,
            **{f"{prefix}:bad_rows_skipped:{kind}": n for kind, n in sorted(self.by_kind.items())},
        }

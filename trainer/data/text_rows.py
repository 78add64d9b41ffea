"""Line-numbered rows of the text files users bring: CSV (``csv`` module dialect: commas,
optional double quotes) and JSON lines, plain or gzip-compressed (by the ``.gz`` suffix).
Blank lines are skipped; unreadable rows go to ``BadRows`` with their line number."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trainer.data.bad_rows import BadRows
from trainer.data.sources import DatasetError


def open_text(path: Path) -> io.TextIOBase:
    """The file as UTF-8 text (a leading byte-order mark is dropped)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path} does not exist")
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _decode_guard(path: Path, line: int, error: Exception) -> DatasetError:
    return DatasetError(f"{path}: cannot read past line {line}: not UTF-8 text ({error})")


def csv_rows(path: Path, bad: BadRows) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped fields) of every non-blank CSV row."""
    with open_text(path) as handle:
        reader = csv.reader(handle, strict=True)
        while True:
            start = reader.line_num + 1  # a quoted field may span lines: report the first
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                bad.report(start, "unreadable row", str(error))
                continue
            except UnicodeDecodeError as error:
                raise _decode_guard(path, reader.line_num, error) from error
            if any(field.strip() for field in fields):
                yield start, [field.strip() for field in fields]


def json_lines(path: Path, bad: BadRows) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of every non-blank line holding one JSON object."""
    with open_text(path) as handle:
        line = 0
        try:
            for line, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as error:
                    bad.report(line, "invalid JSON", str(error))
                    continue
                if not isinstance(value, dict):
                    bad.report(line, "invalid JSON", "the line is not a JSON object")
                    continue
                yield line, value
        except UnicodeDecodeError as error:
            raise _decode_guard(path, line, error) from error
        except (OSError, EOFError) as error:  # truncated or corrupt gzip
            raise DatasetError(f"{path}: cannot read past line {line} ({error})") from error

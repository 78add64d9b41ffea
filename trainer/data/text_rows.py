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
    """(line number, stripped fields) of every non-blank CSV row.

    Each physical line is one row: no field of these files may hold a line break (ids have
    no control characters, the other columns are numbers), so a quote left open is reported
    as that line's problem instead of swallowing the lines after it as one "row".
    """
    with open_text(path) as handle:
        line = 0
        try:
            for line, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    fields = next(csv.reader([text.rstrip("\r\n")], strict=True))
                except csv.Error as error:
                    bad.report(line, "unreadable row", _csv_problem(error))
                    continue
                if any(field.strip() for field in fields):
                    yield line, [field.strip() for field in fields]
        except UnicodeDecodeError as error:
            raise _decode_guard(path, line, error) from error


def _csv_problem(error: csv.Error) -> str:
    """The csv module's message, in the words of a one-line row."""
    message = str(error)
    if "unexpected end of data" in message or "newline inside string" in message:
        return "a quoted field is not closed on its line"
    return message


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

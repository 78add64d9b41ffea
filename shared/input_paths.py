"""Job input files (``load_options`` of ``POST /retrain``) are confined to configured roots.

A retrain names files on the worker; without a limit anyone holding the admin token could have
the worker train on, and the public API then serve, any file the worker can read. A path is
accepted only if it resolves (symlinks and ``..`` resolved) inside one of the roots
(``PMTREC_JOB_INPUT_ROOTS``, default: the data folder). Relative paths are taken relative to
the first root. The refusal reads the same whether or not the file exists, so it tells nothing
about the file system outside the roots. Checked where the API accepts the retrain and again in
the worker, for jobs written to the database by other means.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from shared.components import load_option_params

# The load options that name files (declared with type Path).
PATH_OPTIONS = tuple(name for name, p in load_option_params().items() if p.type is Path)


class InputPathError(ValueError):
    """A job input path outside the configured roots (or not a usable path at all)."""


def _resolve(path: Path) -> Path:
    return Path(os.path.realpath(path))


def confine_input_path(value: str | os.PathLike, roots: Iterable[Path], option: str) -> Path:
    """The resolved path of ``value`` if it lies under one of ``roots``; else InputPathError
    (the same message for files that exist and files that do not)."""
    resolved_roots = [_resolve(Path(root)) for root in roots]
    refusal = InputPathError(
        f"load_options.{option} must name a file under the job input folders "
        "(PMTREC_JOB_INPUT_ROOTS, default: the data folder)"
    )
    if not resolved_roots:
        raise refusal
    try:
        path = _resolve(resolved_roots[0] / Path(value))
    except (OSError, ValueError) as error:  # NUL bytes, names too long for the file system
        raise refusal from error
    if not any(path == root or path.is_relative_to(root) for root in resolved_roots):
        raise refusal
    if path in resolved_roots:  # a root itself is a folder, not an input file
        raise refusal
    return path


def confine_load_options(values: Mapping[str, Any], roots: Iterable[Path]) -> dict[str, Any]:
    """``values`` with every file option resolved and checked against ``roots``."""
    roots = list(roots)
    return {
        name: str(confine_input_path(value, roots, name)) if name in PATH_OPTIONS else value
        for name, value in values.items()
    }

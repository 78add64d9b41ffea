"""Dataset files: where they come from, how they are checked, how missing ones are fetched."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DATA_DIR_ENV = "PMTREC_DATA_DIR"


class DatasetError(Exception):
    """A dataset cannot be loaded: unknown name, missing or corrupt file, malformed content."""


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset with its expected sha256 and public source URL."""

    name: str
    sha256: str
    url: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, destination: Path, timeout: float = 30.0) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        os.replace(staging, destination)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def ensure_files(
    dataset: str, folder: Path, files: tuple[DataFile, ...], allow_download: bool
) -> dict[str, Path]:
    """Return the path of every file, fetching missing ones; verify each sha256.

    Raises DatasetError naming the path, the ``PMTREC_DATA_DIR`` variable and the source URL.
    """
    paths: dict[str, Path] = {}
    for data_file in files:
        path = folder / data_file.name
        hint = (
            f"set {DATA_DIR_ENV} to the folder that holds '{dataset}/{data_file.name}' "
            f"(now {folder.parent}), or fetch it from {data_file.url}"
        )
        if not path.is_file():
            if not allow_download:
                raise DatasetError(f"dataset '{dataset}': {path} is missing; {hint}")
            log.info("downloading %s from %s", path, data_file.url)
            try:
                _download(data_file.url, path)
            except Exception as error:  # network, permissions, HTTP errors
                raise DatasetError(
                    f"dataset '{dataset}': {path} is missing and the download failed ({error}); "
                    f"{hint}"
                ) from error
        actual = _sha256(path)
        if actual != data_file.sha256:
            raise DatasetError(
                f"dataset '{dataset}': {path} is corrupt (sha256 {actual}, expected "
                f"{data_file.sha256}); {hint}"
            )
        paths[data_file.name] = path
    return paths

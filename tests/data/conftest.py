"""Fixtures of the dataset tests: the real Epinions and Amazon-HIN loads (skipped without
PMTREC_DATA_DIR), and small files written in the formats users and Amazon publish."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from trainer.data import LoadOptions, load_dataset


@pytest.fixture(scope="session")
def epinions(data_dir):
    return load_dataset("epinions", data_dir, allow_download=False)


@pytest.fixture(scope="session")
def epinions_5core(data_dir):
    return load_dataset("epinions", data_dir, allow_download=False, options=LoadOptions(core=5))


@pytest.fixture(scope="session")
def amazon_hin(data_dir):
    return load_dataset("amazon-hin", data_dir, allow_download=False)


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def review(user: str, asin: str, overall: float, when: int) -> dict:
    """One review line as Amazon 2018 publishes it (fields the loader ignores included)."""
    return {
        "overall": overall,
        "verified": True,
        "reviewTime": "09 4, 2015",
        "reviewerID": user,
        "asin": asin,
        "reviewerName": "A. Reviewer",
        "reviewText": "Works as described.",
        "summary": "Good",
        "unixReviewTime": when,
    }


def product(asin: str, also_view: list[str], also_buy: list[str]) -> dict:
    """One metadata line as Amazon 2018 publishes it."""
    return {
        "category": ["Video Games", "PC"],
        "tech1": "",
        "description": ["A game."],
        "fit": "",
        "title": f"Game {asin}",
        "also_buy": also_buy,
        "tech2": "",
        "brand": "Studio",
        "feature": [],
        "rank": ["#1 in Video Games"],
        "also_view": also_view,
        "main_cat": "Video Games",
        "similar_item": "",
        "date": "",
        "price": "$19.99",
        "asin": asin,
        "imageURL": [],
        "imageURLHighRes": [],
    }


def write_json_lines_gz(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path


# 6 reviewers x 5 games, with one duplicate review (a later 5 replacing a 2) and low ratings.
GAMES = ["B000A", "B000B", "B000C", "B000D", "B000E"]
REVIEWERS = [f"A{n}REVIEWER" for n in range(6)]


@pytest.fixture
def videogame_dir(tmp_path) -> Path:
    reviews = [
        review(user, asin, float(1 + (u + i) % 5), 1_400_000_000 + 1000 * (u * 5 + i))
        for u, user in enumerate(REVIEWERS)
        for i, asin in enumerate(GAMES)
    ]
    reviews.append(review(REVIEWERS[0], "B000B", 5.0, 1_500_000_000))  # later: replaces
    products = [
        product("B000A", ["B000B", "B000C", "B999Z"], ["B000D"]),
        product("B000B", ["B000A"], []),  # the same co-view pair again, reversed
        product("B000C", [], ["B000E", "B000C"]),  # a self-link
        product("B000D", [], []),
        {"asin": "B000E"},  # no also_view / also_buy at all
        product("B999Y", ["B000A"], []),  # not reviewed: unknown id
    ]
    write_json_lines_gz(tmp_path / "videogame" / "Video_Games_5.json.gz", reviews)
    write_json_lines_gz(tmp_path / "videogame" / "meta_Video_Games.json.gz", products)
    return tmp_path

"""Ranking datasets: Census-Income and the bring-your-own samples CSV, registered by name."""

from __future__ import annotations

from trainer.ranking.data.census import load_census
from trainer.ranking.data.samples_csv import load_samples_csv

RANKING_DATASETS = {"census": load_census, "csv": load_samples_csv}

__all__ = ["RANKING_DATASETS", "load_census", "load_samples_csv"]

"""The Office loader on the real files, and its errors on missing or corrupt ones."""

import shutil

import pytest

from trainer.data import DatasetError, load_dataset


def test_office_counts_match_the_paper(office):
    stats = office.stats()
    assert (stats["users"], stats["items"], stats["interactions"]) == (4905, 2420, 51441)
    assert (stats["train"], stats["val"], stats["test"]) == (30372, 10466, 10603)
    # Positives are ratings 4 and 5; the test file holds nothing else.
    assert stats["train_positive"] == 25849
    assert len(office.positives("test")) == len(office.test)
    assert office.train.ratings.min() == 1 and office.train.ratings.max() == 5


def test_office_edge_cases(office):
    # Seven items never appear in training; they must still have a row.
    assert len(set(range(office.num_items)) - set(office.train.items.tolist())) == 7
    indptr, _ = office.positive_csr()
    assert indptr[-1] == len(
        {
            (u, i)
            for u, i in zip(
                office.train_positive.users.tolist(), office.train_positive.items.tolist()
            )
        }
    )


def test_unknown_dataset_lists_valid_names(tmp_path):
    with pytest.raises(DatasetError, match=r"unknown dataset 'netflix'; valid names: .*office"):
        load_dataset("netflix", tmp_path)


def test_missing_file_names_path_variable_and_url(tmp_path):
    with pytest.raises(DatasetError) as error:
        load_dataset("office", tmp_path, allow_download=False)
    message = str(error.value)
    assert str(tmp_path / "office" / "train.txt") in message
    assert "PMTREC_DATA_DIR" in message
    assert "https://raw.githubusercontent.com/YangLiangwei/GraphAU/" in message


def test_corrupt_file_is_refused(tmp_path, data_dir):
    shutil.copytree(data_dir / "office", tmp_path / "office")
    (tmp_path / "office" / "val.txt").chmod(0o644)
    with open(tmp_path / "office" / "val.txt", "a") as handle:
        handle.write("1,2,5\n")
    with pytest.raises(DatasetError, match=r"val.txt is corrupt \(sha256"):
        load_dataset("office", tmp_path, allow_download=False)

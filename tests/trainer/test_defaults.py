from trainer.defaults import default_config
from trainer.tasks import AUXILIARY_TASKS


def test_full_epinions_catalogue_monitors_a_sample_of_validation_users():
    assert default_config("epinions", "pmtrec").val_users == 5000
    assert default_config("epinions", "bpr", core=0).val_users == 5000


def test_k_core_subset_monitors_every_validation_user():
    full = default_config("epinions", "pmtrec")
    core = default_config("epinions", "pmtrec", core=5)
    assert core.val_users == 0
    # Only the monitor changes; the searched hyper-parameters stay the same.
    assert {**full.hyperparameters(), "val_users": 0} == core.hyperparameters()


def test_small_datasets_monitor_every_validation_user():
    for dataset in AUXILIARY_TASKS:
        if dataset != "epinions":
            assert default_config(dataset, "pmtrec").val_users == 0

from trainer.defaults import _CORE_DEFAULTS, _DEFAULTS, default_config
from trainer.fit import build_parser
from trainer.jobs.first_run import first_run_params
from trainer.names import DEFAULT_METHOD, default_method
from trainer.tasks import AUXILIARY_TASKS


def test_full_epinions_catalogue_monitors_a_sample_of_validation_users():
    assert default_config("epinions", "pmtrec").val_users == 5000
    assert default_config("epinions", "bpr", core=0).val_users == 5000


def test_full_epinions_catalogue_waits_longer_before_stopping():
    assert default_config("epinions", "bpr").patience == 30
    assert default_config("epinions", "bpr", core=5).patience == 10


def test_k_core_subset_monitors_every_validation_user():
    assert default_config("epinions", "pmtrec", core=5).val_users == 0
    assert default_config("epinions", "bpr", core=3).val_users == 0


def test_epinions_full_catalogue_and_5_core_have_their_own_searched_values():
    for method in ("pmtrec", "ew", "bpr"):
        full = default_config("epinions", method)
        core5 = default_config("epinions", method, core=5)
        for name, value in _DEFAULTS["epinions", method].items():
            assert getattr(full, name) == value, (method, name)
        for name, value in _CORE_DEFAULTS["epinions", 5, method].items():
            assert getattr(core5, name) == value, (method, name)
    # The two searches picked different learning rates for BPR alone.
    assert default_config("epinions", "bpr").lr != default_config("epinions", "bpr", core=5).lr


def test_unsearched_k_core_takes_the_full_catalogue_values():
    full = default_config("epinions", "pmtrec")
    core3 = default_config("epinions", "pmtrec", core=3)
    assert core3.patience == 10
    assert {**full.hyperparameters(), "val_users": 0, "patience": 10} == core3.hyperparameters()


def test_small_datasets_monitor_every_validation_user():
    for dataset in AUXILIARY_TASKS:
        if dataset != "epinions":
            assert default_config(dataset, "pmtrec").val_users == 0


def test_office_methods_start_from_als_128_with_their_own_searched_rates():
    for method, lr in (("pmtrec", 0.0001), ("ew", 0.0003), ("bpr", 0.0001)):
        config = default_config("office", method)
        assert (config.init, config.dim, config.lr) == ("als", 128, lr), method
    assert default_config("office", "pmtrec").tau == 0.001
    # Datasets not searched from ALS keep the random start.
    assert default_config("epinions", "pmtrec").init == "xavier"


def test_office_trains_its_declared_method_by_default():
    """The main job and a first model train the dataset's default method; others PMTRec."""
    assert default_method("office") == "ew"
    assert default_method("epinions") == DEFAULT_METHOD == "pmtrec"
    assert default_method("no-such-dataset") == "pmtrec"
    assert build_parser().parse_args(["--dataset", "office"]).method is None  # resolved later
    assert first_run_params("office")["method"] == "ew"
    assert first_run_params("tmall")["method"] == "pmtrec"

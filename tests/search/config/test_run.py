"""A run's config: the overrides that make dnn-train train as a sweep's trial did."""
import pytest

from search.config.compose import compose_checked
from search.config.run import base_run_config, run_config, trial_overrides


@pytest.mark.parametrize("overrides", [
    ["data=digits"],
    ["data=moons", "search.metric=val_accuracy", "search.direction=maximize"],
    ["train.patience=3", "train.num_epochs=40"],
])
def test_dnn_train_with_the_trial_overrides_composes_the_trials_groups(overrides):
    sweep = compose_checked("sweep", overrides)
    printed = trial_overrides(sweep)
    assert "train.patience=" + str(sweep.train.patience) in printed
    train = compose_checked("config", [o for o in overrides if not o.startswith("search.")]
                            + printed)
    trial, alone = base_run_config(sweep), run_config(train)
    for group in ("data", "model", "train"):
        assert trial[group] == alone[group], group


def test_a_value_is_written_as_hydra_reads_it():
    sweep = compose_checked("sweep", ["train.patience=null"])
    assert "train.patience=null" in trial_overrides(sweep)

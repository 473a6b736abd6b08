"""A study records its definition when created and refuses a launcher that differs."""
import contextlib

import optuna
import pytest
from helpers import run_cli
from hydra import compose, initialize_config_dir
from optuna.storages.journal import JournalFileBackend, JournalStorage

from search.config import ConfigError, conf_dir
from search.run.train import load_run_data
from search.study.definition import check_definition, data_digest, study_definition
from search.study.study import check_sweep_config


def definition(*overrides):
    with initialize_config_dir(conf_dir(), version_base="1.3"):
        cfg = compose("sweep", overrides=list(overrides))
    dims = check_sweep_config(cfg)
    return study_definition(cfg, dims, data_digest(load_run_data(cfg)[0]))


@pytest.fixture
def study(tmp_path):
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.journal")))
    return optuna.create_study(storage=storage, study_name="planar-sweep")


def refused(study, current):
    with pytest.raises(ConfigError) as e:
        check_definition(study, current, contextlib.nullcontext())
    return str(e.value)


@pytest.mark.slow
def test_the_first_launcher_records_it_and_an_equal_one_joins(study):
    first = definition()
    check_definition(study, first, contextlib.nullcontext())
    assert study.user_attrs["definition"] == first
    assert first["search.space.train.learning_rate.ranges.adam"] == [1e-4, 0.1]
    assert first["train.seed"] == 1 and "train.learning_rate" not in first  # searched
    # sampler, pruner, n_trials and workers may change on resume
    check_definition(study, definition("search/sampler=random", "search/pruner=none",
                                       "search.n_trials=7", "search.workers=1"),
                     contextlib.nullcontext())


@pytest.mark.slow
def test_other_data_is_refused_naming_the_keys_and_both_ways_forward(study):
    check_definition(study, definition(), contextlib.nullcontext())
    msg = refused(study, definition("data=moons"))
    assert "data.name (planar -> moons)" in msg and "data.digest" in msg
    assert "another search.study_name" in msg and "data=planar" in msg
    assert "\n" not in msg


@pytest.mark.slow
def test_a_narrower_or_smaller_space_is_refused_with_the_override_that_restores_it(study):
    check_definition(study, definition(), contextlib.nullcontext())
    msg = refused(study, definition("search.space.train.lambd.high=0.05"))
    assert "search.space.train.lambd.high (0.1 -> 0.05)" in msg
    assert "search.space.train.lambd.high=0.1" in msg
    msg = refused(study, definition("~search.space.train.optimizer"))
    assert "'+search.space.train.optimizer={type:categorical,choices:[gd,momentum,adam]}'" in msg
    assert "~train.optimizer" not in msg  # searched before: only the dimension comes back
    msg = refused(study, definition("+search.space.train.keep_prob={type:float,low:0.5,high:1.0}"))
    assert "'~search.space.train.keep_prob'" in msg


@pytest.mark.slow
def test_another_metric_direction_or_fixed_setting_is_refused(study):
    check_definition(study, definition(), contextlib.nullcontext())
    msg = refused(study, definition("search.metric=val_accuracy", "search.direction=maximize"))
    assert "search.metric (val_cost -> val_accuracy)" in msg and "search.direction" in msg
    msg = refused(study, definition("train.seed=2"))
    assert "train.seed (1 -> 2)" in msg and "train.seed=1" in msg


def test_same_settings_but_other_data_content_is_refused(study):
    current = definition()
    check_definition(study, {**current, "data.digest": "0" * 16}, contextlib.nullcontext())
    msg = refused(study, current)
    assert "data.digest" in msg and "nothing can make them equal" in msg


FAST = ["~search.space.train.batch_size",
        "train.num_iterations=50", "search.workers=1",
        "search.space.model.hidden_units.depth_high=1", "search.space.model.hidden_units.units_high=4"]


@pytest.mark.slow
def test_cli_refuses_another_data_set_and_says_when_the_total_is_reached(tmp_path):
    env = {"MLFLOW_TRACKING_URI": ""}
    run_cli("dnn-sweep", *FAST, "search.n_trials=2", cwd=tmp_path, env=env, check=0)
    other = run_cli("dnn-sweep", *FAST, "search.n_trials=2", "data=moons",
                    "search.study_name=planar-sweep", cwd=tmp_path, env=env, check=2)
    assert other.stderr.startswith("error: study 'planar-sweep' was created with another "
                                   "definition: data.")
    assert len(other.stderr.strip().splitlines()) == 1
    assert "best" not in other.stdout and "MLflow parent run" not in other.stdout
    done = run_cli("dnn-sweep", *FAST, "search/sampler=random", "search.n_trials=1",
                   cwd=tmp_path, env=env, check=0)
    # after the lines saying what it opens: why nothing runs, then the study as it stands
    assert ("study 'planar-sweep' already has 2 finished trials, n_trials=1: nothing to run "
            "(raise search.n_trials to go on, or choose another search.study_name for a new "
            "study)") in done.stdout.splitlines()
    assert "best 2 trial(s) by val_cost" in done.stdout
    assert "MLflow parent run" not in done.stdout, "no launch: no parent run line"
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "mlruns" / "optuna.journal")))
    assert len(optuna.load_study(study_name="planar-sweep", storage=storage).trials) == 2


@pytest.mark.slow
def test_another_direction_is_refused_before_the_study_is_changed(tmp_path):
    from search.study.study import open_study

    journal = f"search.storage={tmp_path}/s.journal"
    with initialize_config_dir(conf_dir(), version_base="1.3"):
        first = compose("sweep", overrides=[journal])
        other = compose("sweep", overrides=[journal, "search.metric=val_accuracy",
                                            "search.direction=maximize"])
        same_direction = compose("sweep", overrides=[journal, "search.metric=n_parameters"])
    study = open_study(first, check_sweep_config(first))
    with pytest.raises(ConfigError, match="or add search.direction=minimize to join it"):
        open_study(other, check_sweep_config(other))
    open_study(same_direction, check_sweep_config(same_direction))  # refused by its definition
    assert optuna.load_study(study_name=study.study_name,
                             storage=study._storage).metric_names == ["val_cost"]

"""A new study's first trial: the usual settings inside the space (search.study.first_trial),
queued once by the launcher that creates the study (search.first_trial=usual; the default
samples it), and taken by the first ask."""
import math

import optuna
import pytest
from helpers import run_cli
from omegaconf import OmegaConf
from optuna.storages.journal import JournalFileBackend, JournalStorage

from search.study.first_trial import usual_params
from search.study.space import suggest

RUN = OmegaConf.create({"train": {"optimizer": "gd"}})


def layers(**kw):
    return {"type": "layers", "depth_low": 1, "depth_high": 4, "units_low": 10,
            "units_high": 128, "log": True, "shared": False, **kw}


DEFAULT_ON_DIGITS = {  # conf/search/space/default.yaml as fitted to digits' 5-fold training
    "train.learning_rate": {"type": "float", "log": True, "by": "train.optimizer",
                            "ranges": {"gd": [1e-3, 1.0], "momentum": [1e-3, 1.0],
                                       "adam": [1e-4, 0.1]}},
    "train.batch_size": {"type": "categorical", "choices": [32, 64]},
    "train.optimizer": {"type": "categorical", "choices": ["gd", "momentum", "adam"]},
    "train.lambd": {"type": "float", "low": 0.0, "high": 0.1},
    "model.hidden_units": layers(),
    "model.activation": {"type": "categorical", "choices": ["relu", "leaky_relu", "tanh",
                                                            "sigmoid"]},
}


def test_the_default_space_on_digits_starts_from_adam_relu_and_one_wide_layer():
    assert usual_params(DEFAULT_ON_DIGITS, RUN) == {
        "train.optimizer": "adam", "train.learning_rate.adam": 1e-3, "train.batch_size": 64,
        "train.lambd": 0.0, "model.activation": "relu", "model.hidden_units.depth": 1,
        "model.hidden_units.units_1": 128}


@pytest.mark.parametrize("choices, usual", [([None, 32], 32), ([None], None),
                                            ([128, 256], 128), ([32, 128], 32)])
def test_the_batch_size_nearest_64_on_a_log_scale(choices, usual):
    assert usual_params({"train.batch_size": {"type": "categorical", "choices": choices}},
                        RUN) == {"train.batch_size": usual}


def test_what_the_space_does_not_allow_is_left_to_the_sampler():
    dims = {"train.optimizer": {"type": "categorical", "choices": ["gd", "momentum"]},
            "model.activation": {"type": "categorical", "choices": ["tanh"]},
            "train.learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True},
            "train.beta1": {"type": "float", "low": 0.8, "high": 0.99},
            "model.hidden_units": layers(depth_low=2, shared=True)}
    # the rate of the run config's optimizer (gd): the middle of its range on a log scale
    assert usual_params(dims, RUN) == {
        "train.learning_rate": pytest.approx(math.sqrt(1e-3)),
        "model.hidden_units.depth": 2, "model.hidden_units.units": 128}


def test_a_plain_learning_rate_takes_the_rate_of_the_optimizer_chosen_in_the_same_space():
    dims = {"train.learning_rate": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
            "train.optimizer": {"type": "categorical", "choices": ["gd", "adam"]}}
    # The run's own optimizer is gd; the space's usual choice, adam, sets the rate.
    assert usual_params(dims, RUN) == {"train.learning_rate": 1e-3, "train.optimizer": "adam"}


def test_the_usual_params_are_what_a_trial_of_the_space_samples_first():
    """Queued on a real study, the first ask takes them: the space's own suggest returns the
    usual values (and samples what they leave out), inside every range."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial(usual_params(DEFAULT_ON_DIGITS, RUN))
    values = suggest(study.ask(), DEFAULT_ON_DIGITS)
    assert values == {"train.optimizer": "adam", "train.learning_rate": 1e-3,
                      "train.batch_size": 64, "train.lambd": 0.0, "model.activation": "relu",
                      "model.hidden_units": [128]}
    assert suggest(study.ask(), DEFAULT_ON_DIGITS) != values  # then the sampler's own


QUICK = ["search.workers=1", "train.num_iterations=30", "train.eval_every=10",
         "search.space.model.hidden_units.units_high=8", "~search.space.train.batch_size"]


def trials_of(cwd, name="planar-sweep"):
    storage = JournalStorage(JournalFileBackend(str(cwd / "mlruns" / "optuna.journal")))
    return optuna.load_study(study_name=name, storage=storage).get_trials()


@pytest.mark.slow
def test_a_new_study_runs_the_usual_trial_first_once_and_a_resume_adds_none(tmp_path):
    sweep = lambda *a: run_cli("dnn-sweep", *QUICK, *a, cwd=tmp_path,  # noqa: E731
                               env={"MLFLOW_TRACKING_URI": ""}, check=0)
    out = sweep("search.n_trials=2", "search.first_trial=usual").stdout
    assert "first trial: the usual settings the space allows: " in out
    usual = {"train.optimizer": "adam", "train.learning_rate.adam": 1e-3,
             "model.activation": "relu", "model.hidden_units.depth": 1,
             "model.hidden_units.units_1": 8}
    trials = trials_of(tmp_path)
    assert [t.state.name for t in trials] == ["COMPLETE"] * 2
    assert {k: trials[0].params[k] for k in usual} == usual
    # a resume queues none
    assert "first trial" not in sweep("search.n_trials=3", "search.first_trial=usual").stdout
    trials = trials_of(tmp_path)
    assert len(trials) == 3 and all(t.params != trials[0].params for t in trials[1:])
    assert "first trial" not in sweep("search.n_trials=1", "search.study_name=other").stdout
    assert trials_of(tmp_path, "other")[0].params.get("train.optimizer.adam") is None
    assert trials_of(tmp_path, "other")[0].params != trials[0].params

"""The config schema: every key of every group has a type and a range, and a bad value is
refused in-process (Hydra's compose API) with one message naming the key."""
import re
from dataclasses import fields, is_dataclass

import pytest
from omegaconf import OmegaConf

from dnn.data.registry import DATASETS
from dnn.metrics import SCORES
from dnn.settings import ModelSettings, TrainSettings
from search.config import ConfigError, check_run_config
from search.config.compose import compose_checked
from search.config.cv import CVSchema
from search.config.search import SearchSchema
from search.config.tracking import TrackingSchema

# (overrides, the key the message must name); config "config" unless the key is search.*
BAD = [
    # data: every set
    (["data.name=mnist"], "data.name"),
    (["data.val_fraction=1.0"], "data.val_fraction"),
    (["data.val_fraction=-0.1"], "data.val_fraction"),
    (["data.standardize=maybe"], "data.standardize"),
    (["data.seed=-1"], "data.seed"),
    (["data.seed=4294967296"], "data.seed"),
    # data: generated sets, circles, cat, npz
    (["data.n_samples=1"], "data.n_samples"),
    (["data.n_samples=1000000000000"], "data.n_samples"),
    (["data.noise=-0.1"], "data.noise"),
    (["data.noise=inf"], "data.noise"),
    (["data=circles", "data.factor=1.0"], "data.factor"),
    (["data=digits", "data.noise=0.3"], "data.noise"),
    (["data=cat", "data.dir=[1]"], "data.dir"),
    (["data=npz", "data.path=[1]"], "data.path"),
    # model
    (["model.hidden_units=[8,0]"], "model.hidden_units"),
    (["model.hidden_units=[]"], "model.hidden_units"),
    (["model.hidden_units=wide"], "model.hidden_units"),
    (["model.activation=swish"], "model.activation"),
    (["model.init=glorot"], "model.init"),
    (["model.ensemble=0"], "model.ensemble"),
    (["model.ensemble=101"], "model.ensemble"),
    (["model.ensemble=3", "cv.folds=3"], "model.ensemble"),  # a fold scores one network
    # train
    (["train.learning_rate=inf"], "train.learning_rate"),
    (["train.learning_rate=0"], "train.learning_rate"),
    (["train.learning_rate=abc"], "train.learning_rate"),
    (["train.num_iterations=0"], "train.num_iterations"),
    (["train.num_iterations=1.5"], "train.num_iterations"),
    (["train.batch_size=0"], "train.batch_size"),
    (["train.optimizer=sgd"], "train.optimizer"),
    (["train.beta=1.0"], "train.beta"),
    (["train.beta1=1.0"], "train.beta1"),
    (["train.beta2=-0.5"], "train.beta2"),
    (["train.epsilon=-1"], "train.epsilon"),
    (["train.lambd=inf"], "train.lambd"),
    (["train.lambd=-1"], "train.lambd"),
    (["train.keep_prob=0"], "train.keep_prob"),
    (["train.seed=-1"], "train.seed"),
    (["train.dtype=float16"], "train.dtype"),
    (["train.eval_every=0"], "train.eval_every"),
    (["train.num_epochs=0"], "train.num_epochs"),
    (["train.num_epochs=1.5"], "train.num_epochs"),
    (["train.patience=0"], "train.patience"),
    (["train.patience=ten"], "train.patience"),
    (["train.min_delta=-0.1"], "train.min_delta"),
    (["train.min_delta=inf"], "train.min_delta"),
    (["train.stop_metric=val_f1"], "train.stop_metric"),
    (["train.stop_metric=test_cost"], "train.stop_metric"),
    (["train.nosuch=1"], "train.nosuch"),
    # tracking
    (["tracking.uri=foo://x"], "tracking.uri"),
    (["tracking.artifact_root=''"], "tracking.artifact_root"),
    (["tracking.experiment=''"], "tracking.experiment"),
    (["tracking.log_every=0"], "tracking.log_every"),
    (["tracking.flush_seconds=0"], "tracking.flush_seconds"),
    (["tracking.log_model=maybe"], "tracking.log_model"),
    (["tracking.plot=maybe"], "tracking.plot"),
    (["tracking.history_points=1"], "tracking.history_points"),
    (["tracking.history_points=many"], "tracking.history_points"),
    (["tracking.register=''"], "tracking.register"),
    # cv
    (["cv.folds=1"], "cv.folds"),
    (["cv.folds=true"], "cv.folds"),
    (["cv.repeats=0"], "cv.repeats"),
    # unknown groups and options
    (["+nosuch=1"], "nosuch"),
    (["data=nosuch"], "data=nosuch"),
]
BAD_SEARCH = [
    (["search.study_name=''"], "search.study_name"),
    (["search.storage=/tmp"], "search.storage"),
    (["search.n_trials=0"], "search.n_trials"),
    (["search.timeout=-1"], "search.timeout"),
    (["search.workers=1000"], "search.workers"),
    (["search.workers=0"], "search.workers"),
    (["search.metric=accuracy"], "search.metric"),
    (["search.direction=up"], "search.direction"),
    (["search.seed=-1"], "search.seed"),
    (["search.retry_failed=maybe"], "search.retry_failed"),
    (["search.first_trial=default"], "search.first_trial"),
    (["search.heartbeat_interval=0"], "search.heartbeat_interval"),
    (["search.grace_period=5"], "search.grace_period"),
    (["search.cv.folds=1"], "search.cv.folds"),
    (["search.cv.repeats=0"], "search.cv.repeats"),
    (["search.refit=maybe"], "search.refit"),
    (["search.refit_ensemble=0"], "search.refit_ensemble"),
    (["search.refit_ensemble=five"], "search.refit_ensemble"),
    (["model.ensemble=2", "search.cv.folds=3"], "model.ensemble"),  # each trial's folds
    (["search.log_trial_models=maybe"], "search.log_trial_models"),
    (["search.register=''"], "search.register"),
    (["search.top_k=0"], "search.top_k"),
    (["search.confirm.top_k=-1"], "search.confirm.top_k"),
    (["search.confirm.seeds=1"], "search.confirm.seeds"),
    (["search.confirm.seeds=many"], "search.confirm.seeds"),
    (["search.metric=val_auc"], "search.direction"),  # minimize: against the metric
    (["search.metric=val_cost", "search.direction=maximize"], "search.direction"),
    (["search.patience=0"], "search.patience"),
    (["search.min_delta=-0.1"], "search.min_delta"),
    (["search.narrow_from=''"], "search.narrow_from"),
    (["search.narrow.top=0"], "search.narrow.top"),
    (["search.narrow.margin=-1"], "search.narrow.margin"),
    (["search.report.color_by=nosuch"], "search.report.color_by"),
    (["search.sampler.n_startup_trials=abc"], "abc"),
    (["search.pruner.n_warmup_steps=abc"], "abc"),
    (["~search.space"], "search.space"),
    (["data.val_fraction=0"], "data.val_fraction"),  # a sweep selects on a validation split
]


@pytest.mark.parametrize("name", list(SCORES))
def test_a_score_is_selected_in_the_direction_of_the_score_table(name):
    score, other = SCORES[name], {"maximize": "minimize", "minimize": "maximize"}
    good = [f"search.metric=val_{name}", f"search.direction={score.direction}"]
    assert compose_checked("sweep", good, check_sweep).search.metric == f"val_{name}"
    bad = [f"search.metric=val_{name}", f"search.direction={other[score.direction]}"]
    with pytest.raises(ConfigError, match=re.escape(f"({score.meaning})")) as e:
        compose_checked("sweep", bad, check_sweep)
    assert f"set search.direction={score.direction}" in str(e.value)


def check_sweep(cfg):
    from search.study.study import check_sweep_config

    check_sweep_config(cfg)


@pytest.mark.parametrize("overrides, key", BAD, ids=[" ".join(o) for o, _ in BAD])
def test_a_bad_run_value_is_refused_naming_the_key(overrides, key):
    with pytest.raises(ConfigError, match=re.escape(key)) as e:
        compose_checked("config", overrides, check_run_config)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("overrides, key", BAD_SEARCH, ids=[" ".join(o) for o, _ in BAD_SEARCH])
def test_a_bad_search_value_is_refused_naming_the_key(overrides, key):
    with pytest.raises(ConfigError, match=re.escape(key)) as e:
        compose_checked("sweep", overrides, check_sweep)
    assert "\n" not in str(e.value)


def test_the_message_names_key_value_and_what_is_allowed():
    with pytest.raises(ConfigError) as e:
        compose_checked("config", ["train.seed=-1"], check_run_config)
    assert str(e.value) == "train.seed=-1: must be an integer in [0, 4294967295]"
    with pytest.raises(ConfigError) as e:
        compose_checked("config", ["train.optimizer=sgd"], check_run_config)
    assert str(e.value) == "train.optimizer='sgd': must be one of gd, momentum, adam"


def keys_of(schema, prefix):
    out = []
    for f in fields(schema):
        default = f.default_factory() if callable(f.default_factory) else f.default
        if is_dataclass(default):
            out += keys_of(type(default), f"{prefix}{f.name}.")
        else:
            out.append(f"{prefix}{f.name}")
    return out


def test_an_early_stopping_message_names_key_value_and_what_is_allowed():
    with pytest.raises(ConfigError) as e:
        compose_checked("config", ["train.patience=0"], check_run_config)
    assert str(e.value) == "train.patience=0: must be an integer in [1, 100000000] (or null)"
    with pytest.raises(ConfigError) as e:
        compose_checked("config", ["train.stop_metric=val_f1"], check_run_config)
    assert str(e.value) == ("train.stop_metric='val_f1': must be one of None, val_cost, "
                            "val_accuracy, val_balanced_accuracy, val_auc")


def test_every_key_of_every_schema_has_a_bad_value_test():
    schemas = [(ModelSettings, "model."), (TrainSettings, "train."),
               (TrackingSchema, "tracking."), (CVSchema, "cv."), (SearchSchema, "search.")]
    schemas += [(entry.settings, "data.") for entry in DATASETS.values()]
    tested = {key for _, key in BAD + BAD_SEARCH}
    tested |= {"search.sampler", "search.pruner"}  # their options: by Optuna's signatures
    tested |= {"search.launcher"}  # its keys: tests/search/config/test_launcher.py
    missing = sorted({k for cls, p in schemas for k in keys_of(cls, p)} - tested)
    assert missing == []


def test_good_configs_pass_and_every_value_has_one_default():
    cfg = compose_checked("config", [], check_run_config)
    assert OmegaConf.get_type(cfg.train) is TrainSettings
    assert OmegaConf.to_container(cfg.train) == OmegaConf.to_container(
        OmegaConf.structured(TrainSettings))
    circles = compose_checked("config", ["data=circles"], check_run_config).data
    import inspect

    from dnn.data import synthetic

    assert circles.noise == 0.1 == inspect.signature(synthetic.circles).parameters["noise"].default


def test_data_options_belong_to_the_sets_that_use_them():
    for name in ("planar", "moons", "circles", "digits", "breast_cancer", "cat", "npz"):
        data = compose_checked("config", [f"data={name}"]).data
        generated = name in ("planar", "moons", "circles")
        assert ("n_samples" in data) == generated and ("noise" in data) == generated
        assert ("factor" in data) == (name == "circles")
        assert ("dir" in data) == (name == "cat") and ("path" in data) == (name == "npz")


def test_the_sweep_config_is_the_run_config_plus_search():
    run = compose_checked("config", ["data=digits", "train.seed=3"])
    sweep = compose_checked("sweep", ["data=digits", "train.seed=3"])
    for group in ("data", "model", "cv"):
        assert sweep[group] == run[group]
    assert run.train.patience is None and sweep.train.patience == 10  # trials stop early
    assert run.train.dtype == "float64" and sweep.train.dtype == "float32"
    sweep.train.patience, sweep.train.dtype = None, "float64"
    assert sweep.train == run.train
    assert sweep.tracking.experiment == "digits-sweep"
    assert set(sweep) == set(run) | {"search"}


def test_a_multirun_sweep_checks_every_value():
    compose_checked("config", ["train.learning_rate=0.1,0.2"], check_run_config)
    with pytest.raises(ConfigError, match=re.escape("train.learning_rate=-0.2")):
        compose_checked("config", ["train.learning_rate=0.1,-0.2", "train.seed=1,2"],
                        check_run_config)


def test_a_stored_config_is_typed_and_checked_without_hydra():
    cfg = OmegaConf.create({"data": {"name": "planar", "noise": "abc"}})
    with pytest.raises(ConfigError, match="data.noise"):
        check_run_config(cfg)
    cfg = OmegaConf.create({"train": {"learning_rate": 0.1, "momentum": 0.9}})
    with pytest.raises(ConfigError, match="train.momentum"):
        check_run_config(cfg)

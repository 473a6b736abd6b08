"""The search space: checks, define-by-run sampling and the way back to config overrides."""
import optuna
import pytest
from omegaconf import OmegaConf

from search.config import ConfigError, check_run_config
from search.config.space import check_space as check_space_against
from search.study.space import apply_values, as_overrides, dimensions, suggest, values_from_params

RUN = OmegaConf.create({"model": {"hidden_units": [8, 4], "activation": "tanh"},
                        "train": {"learning_rate": 0.3, "batch_size": None}})


def check_space(space, run_cfg):
    return check_space_against(space, run_cfg, check_run_config)
SPACE = OmegaConf.create({
    "train": {"learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True},
              "batch_size": {"type": "categorical", "choices": [None, 64]}},
    "model": {"hidden_units": {"type": "layers", "depth_low": 1, "depth_high": 4,
                               "units_low": 2, "units_high": 32, "log": True},
              "activation": {"type": "categorical", "choices": ["relu", "tanh"]}},
})


def test_paths_are_dotted_and_units_follow_the_depth():
    dims = check_space(SPACE, RUN)
    assert set(dims) == {"train.learning_rate", "train.batch_size", "model.hidden_units",
                         "model.activation"}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        values = suggest(trial, dims)
        depth = trial.params["model.hidden_units.depth"]
        assert len(values["model.hidden_units"]) == depth
        assert {f"model.hidden_units.units_{l}" for l in range(1, depth + 1)} <= set(trial.params)
        assert f"model.hidden_units.units_{depth + 1}" not in trial.params
        assert values_from_params(trial.params, dims) == values
        cfg = apply_values(RUN, values)
        assert list(cfg.model.hidden_units) == values["model.hidden_units"]
        study.tell(trial, 0.0)


def test_shared_width_and_overrides():
    space = OmegaConf.create({"model": {"hidden_units": {
        "type": "layers", "depth_low": 3, "depth_high": 3, "units_low": 5, "units_high": 5,
        "shared": True}}})
    dims = check_space(space, RUN)
    trial = optuna.create_study().ask()
    values = suggest(trial, dims)
    assert values == {"model.hidden_units": [5, 5, 5]}
    assert as_overrides({**values, "train.batch_size": None, "train.learning_rate": 0.5}) == \
        ["model.hidden_units=[5,5,5]", "train.batch_size=null", "train.learning_rate=0.5"]


def test_a_removed_dimension_is_absent():
    space = OmegaConf.create({"train": {"learning_rate": None,
                                        "batch_size": {"type": "categorical", "choices": [1]}}})
    assert list(dimensions(space)) == ["train.batch_size"]


@pytest.mark.parametrize("spec, message", [
    ({"train": {"learning_rate": {"type": "normal", "low": 0, "high": 1}}}, "type='normal': must be one of float, int"),
    ({"train": {"learning_rate": {"type": "float", "low": 1, "high": 0.1}}}, "low 1.0 is greater than high 0.1"),
    ({"train": {"learning_rate": {"type": "float", "low": 0, "high": 1, "log": True}}}, "log scale needs low > 0"),
    ({"train": {"batch_size": {"type": "categorical", "choices": []}}}, "choices: must be a non-empty list"),
    ({"train": {"momentum": {"type": "float", "low": 0, "high": 1}}}, "'train.momentum' is not a key"),
    ({"train": {"learning_rate": {"type": "float", "low": 0, "high": 1, "sigma": 2}}}, "Key 'sigma' not in 'FloatDim'"),
    ({"model": {"hidden_units": {"type": "layers", "depth_low": 0, "depth_high": 2,
                                 "units_low": 1, "units_high": 4}}}, "at least 1"),
    ({}, "search.space is empty"),
])
def test_malformed_spaces_are_named(spec, message):
    with pytest.raises(ConfigError, match=message):
        check_space(OmegaConf.create(spec), RUN)


def composed_run():
    from search.config import run_config
    from search.config.compose import compose_checked

    return run_config(compose_checked("config", []))


@pytest.mark.parametrize("path, spec, message", [
    ("train.optimizer", {"type": "categorical", "choices": ["gd", "sgd"]},
     r"the value 'sgd' is refused by the run config \(train.optimizer='sgd': must be one of"),
    ("train.learning_rate", {"type": "float", "low": -0.1, "high": 0.5},
     r"the value -0.1 is refused .*train.learning_rate=-0.1: must be a number in \(0, inf\)"),
    ("train.optimizer", {"type": "float", "low": 0.0, "high": 1.0},
     "the value 0.0 is refused .*train.optimizer='0.0': must be one of"),
    ("train.num_iterations", {"type": "float", "low": 10, "high": 20},
     "train.num_iterations: Value '10.0' of type 'float' could not be converted to Integer"),
    ("train.keep_prob", {"type": "float", "low": 0.5, "high": 1.5}, "train.keep_prob=1.5"),
    ("model.hidden_units", {"type": "layers", "depth_low": 1, "depth_high": 2,
                            "units_low": 2, "units_high": 10**7}, "model.hidden_units="),
    ("train.lambd", {"type": "float", "low": 0.0, "high": float("inf")}, "high=inf: must be finite"),
    ("train.lambd", {"type": "float", "low": 0.1, "high": 1.0, "log": True, "step": 0.1},
     "step and log=true cannot be combined"),
    ("train.batch_size", {"type": "int", "low": 1.5, "high": 8}, "search.space.train.batch_size.low"),
])
def test_a_dimension_the_run_config_would_refuse_is_refused_before_the_study(path, spec, message):
    group, key = path.split(".")
    space = OmegaConf.create({group: {key: spec}})
    with pytest.raises(ConfigError, match=f"search.space.{path}"):
        check_space(space, composed_run())
    with pytest.raises(ConfigError, match=message):
        check_space(space, composed_run())


def test_the_default_spaces_are_accepted():
    from search.config.compose import compose_checked

    for space in ("default", "shared_width", "course"):
        cfg = compose_checked("sweep", [f"search/space={space}"])
        check_space(cfg.search.space, composed_run())


def test_the_run_schema_is_the_default_check():
    space = OmegaConf.create({"train": {"optimizer": {"type": "categorical", "choices": ["sgd"]}}})
    with pytest.raises(ConfigError, match="train.optimizer='sgd'"):
        check_space_against(space, composed_run())

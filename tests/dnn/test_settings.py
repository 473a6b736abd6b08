"""ModelSettings / TrainSettings: the one place of each training default."""
import inspect
from dataclasses import asdict

import numpy as np
import pytest
from omegaconf import OmegaConf

from dnn import ModelSettings, Trainer, TrainSettings, fit
from dnn.settings import settings_from
from search.config import conf_dir


def test_defaults_equal_the_config_files():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(conf_dir(), version_base="1.3"):
        cfg = compose("config")
    assert asdict(ModelSettings()) == OmegaConf.to_container(cfg.model)
    assert asdict(TrainSettings()) == OmegaConf.to_container(cfg.train)
    assert OmegaConf.get_type(cfg.model) is ModelSettings
    assert OmegaConf.get_type(cfg.train) is TrainSettings


def test_fit_and_trainer_take_the_settings_defaults(binary_problem):
    X, Y = binary_problem
    assert inspect.signature(fit).parameters["model"].default is None
    trainer = Trainer(X, Y)
    assert trainer.model == ModelSettings() and trainer.train == TrainSettings()
    # fit with no settings trains exactly the default Trainer.
    _, costs = fit(X, Y, num_iterations=3)
    t = Trainer(X, Y, train=TrainSettings(num_iterations=3))
    while not t.done:
        t.step()
    assert costs == t.costs


def test_keyword_settings_override_single_fields():
    model, train = settings_from(TrainSettings(seed=7) and None, TrainSettings(seed=7),
                                 hidden_units=[3], learning_rate=0.01)
    assert model == ModelSettings(hidden_units=[3])
    assert train == TrainSettings(seed=7, learning_rate=0.01)
    with pytest.raises(TypeError, match=r"unknown setting\(s\) \['learning_rat'\]"):
        settings_from(learning_rat=0.1)


def test_settings_are_a_structured_config_schema():
    cfg = OmegaConf.merge(OmegaConf.structured(TrainSettings), {"batch_size": 32})
    assert OmegaConf.to_object(cfg) == TrainSettings(batch_size=32)
    with pytest.raises(Exception, match="learning_rate"):
        OmegaConf.merge(OmegaConf.structured(TrainSettings), {"learning_rate": "fast"})
    model = OmegaConf.structured(ModelSettings)
    assert list(model.hidden_units) == [8, 4]


@pytest.mark.parametrize("make, message", [
    (lambda: ModelSettings(activation="swish"), "unknown activation 'swish'"),
    (lambda: ModelSettings(hidden_units=[4, 0]), r"hidden_units\[1\] must be a positive"),
    (lambda: TrainSettings(eval_every=0), "eval_every must be a positive integer, got 0"),
    (lambda: TrainSettings(batch_size=2.5), "batch_size must be a positive integer"),
    (lambda: TrainSettings(dtype="float16"), "unknown dtype 'float16'"),
])
def test_bad_settings_fail_on_creation(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_float32_settings_train_in_float32(binary_problem):
    X, Y = binary_problem
    p, _ = fit(X, Y, ModelSettings([3]), TrainSettings(dtype="float32", num_iterations=2))
    assert {v.dtype for v in p.values()} == {np.dtype("float32")}

"""Checks that need the data, run before any store is touched: folds and network size."""
import pytest

from search.config import ConfigError, check_run_config
from search.config.compose import compose_checked
from search.config.fits import network_bytes
from search.run.train import load_run_data


def test_more_folds_than_the_smallest_class_is_refused_naming_cv_folds():
    cfg = compose_checked("config", ["cv.folds=1000"], check_run_config)  # in range: [2, 1000]
    with pytest.raises(ConfigError, match=r"cv.folds=1000: must be at most 200, .* planar"):
        load_run_data(cfg)
    load_run_data(compose_checked("config", ["cv.folds=200"]))


def test_a_network_that_cannot_fit_in_memory_is_refused_naming_the_sizes():
    cfg = compose_checked("config", ["model.hidden_units=[1000000,1000000]"], check_run_config)
    with pytest.raises(ConfigError, match=r"model.hidden_units=\[1000000, 1000000\]: a network "
                                          r"of layers \[2, 1000000, 1000000, 1\] .* need .* GiB"):
        load_run_data(cfg)


def test_network_bytes_counts_weights_copies_and_activations():
    # W1 (3, 2) + b1 (3,) and W2 (1, 3) + b2: 13 parameters; gd keeps a gradient too;
    # A and Z of every layer for 10 examples: 2 * 10 * (2 + 3 + 1) values.
    assert network_bytes([2, 3, 1], 10, "gd", "float64") == 8 * (2 * 13 + 2 * 10 * 6)
    assert network_bytes([2, 3, 1], 10, "adam", "float32") == 4 * (4 * 13 + 2 * 10 * 6)


def test_cross_validation_sizes_every_network_it_trains_at_once():
    """folds x repeats networks train together (stacked or in lockstep), each with its
    fold's copy of the data: a network that fits once is refused 50 times over."""
    from dnn.data.memory import available_bytes

    base = compose_checked("config", [], check_run_config)
    t = base.train
    free = available_bytes()
    h = 64
    while network_bytes([2, h, h, 1], 400, t.optimizer, t.dtype) < free / 25:
        h *= 2  # one network: between free/25 and free/6
    units = f"model.hidden_units=[{h},{h}]"
    load_run_data(compose_checked("config", [units], check_run_config))  # one fits
    cfg = compose_checked("config", [units, "cv.folds=5", "cv.repeats=10"], check_run_config)
    with pytest.raises(ConfigError, match=r"50 networks trained at once \(cv.folds=5 x "
                                          r"cv.repeats=10\) of layers .* need .* GiB, more"):
        load_run_data(cfg)

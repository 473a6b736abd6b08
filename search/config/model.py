"""The `model` group: the network's hidden layers, activation and initialization.
Its schema (keys, types, defaults) is dnn.settings.ModelSettings; here the ranges."""
from dnn.activations import HIDDEN_ACTIVATIONS
from dnn.initialize import INITS
from dnn.settings import ModelSettings as ModelSchema  # noqa: F401 - the group's schema
from search.config.errors import ConfigError
from search.config.rules import Integer, OneOf, check_rules

MAX_UNITS = 10**6  # widths beyond this cannot be trained on this kind of machine anyway
MAX_ENSEMBLE = 100  # networks averaged: past a few dozen the mean no longer moves

RULES = {"activation": OneOf(HIDDEN_ACTIVATIONS), "init": OneOf(INITS),
         "ensemble": Integer(1, MAX_ENSEMBLE)}
WIDTH = Integer(1, MAX_UNITS)


def check_model(model):
    units = list(model["hidden_units"])
    if not units:
        raise ConfigError("model.hidden_units=[]: must list at least one hidden layer width")
    for i, n in enumerate(units):
        if not WIDTH.allows(n):
            raise ConfigError(f"model.hidden_units={units}: width {n!r} of layer {i + 1} must "
                              f"be {WIDTH.allowed()}")
    check_rules(model, RULES, "model")

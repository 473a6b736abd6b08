"""The `train` group: optimization, fed to dnn.fit. Its schema (keys, types, defaults) is
dnn.settings.TrainSettings; here the ranges."""
from dnn.optimizers import OPTIMIZERS
from dnn.settings import DTYPES  # noqa: F401 - the group's schema
from dnn.settings import TrainSettings as TrainSchema
from dnn.stopping import STOP_METRICS
from search.config.rules import INF, SEED, Integer, Number, OneOf, Positive, check_rules

MAX_ITERATIONS = 10**8


RULES = {
    "learning_rate": Positive(),
    "num_iterations": Integer(1, MAX_ITERATIONS),
    "num_epochs": Integer(1, MAX_ITERATIONS),
    "batch_size": Integer(optional=True),
    "optimizer": OneOf(OPTIMIZERS),
    "beta": Number(0, 1, high_open=True),
    "beta1": Number(0, 1, high_open=True),
    "beta2": Number(0, 1, high_open=True),
    "epsilon": Positive(),
    "lambd": Number(0, INF),
    "keep_prob": Number(0, 1, low_open=True),
    "seed": SEED,
    "dtype": OneOf(DTYPES),
    "eval_every": Integer(),
    "patience": Integer(1, MAX_ITERATIONS, optional=True),
    "min_delta": Number(0, INF),
    "stop_metric": OneOf((None, *STOP_METRICS)),
}


def check_train(train):
    check_rules(train, RULES, "train")

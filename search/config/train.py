"""The `train` group: optimization, fed to dnn.fit (keys equal its keyword names)."""
from dataclasses import dataclass
from typing import Optional

from dnn.optimizers import OPTIMIZERS
from dnn.train import DTYPES
from search.config.rules import INF, SEED, Integer, Number, OneOf, Positive, check_rules

MAX_ITERATIONS = 10**8


@dataclass
class TrainSchema:
    learning_rate: float = 0.3
    num_iterations: int = 1500
    batch_size: Optional[int] = None  # null: full batch; else mini-batches shuffled with the seed
    optimizer: str = "gd"      # gd | momentum | adam
    beta: float = 0.9          # momentum
    beta1: float = 0.9         # adam
    beta2: float = 0.999       # adam
    epsilon: float = 1e-8      # adam
    lambd: float = 0.0         # L2 regularization strength
    keep_prob: float = 1.0     # inverted dropout on hidden layers (1.0: off)
    seed: int = 1              # initialization, shuffling and dropout
    dtype: str = "float64"     # float64 | float32
    eval_every: int = 50       # iterations between validation/test evaluations


RULES = {
    "learning_rate": Positive(),
    "num_iterations": Integer(1, MAX_ITERATIONS),
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
}


def check_train(train):
    check_rules(train, RULES, "train")

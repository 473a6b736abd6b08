"""What a training needs to know: the network (ModelSettings) and the optimization
(TrainSettings). Plain typed dataclasses, so that a config system can use them as its
schema; each default lives here and only here. Bad values raise ValueError on creation."""
import math
from dataclasses import dataclass, field, fields, replace
from typing import List, Optional

from dnn.activations import HIDDEN_ACTIVATIONS
from dnn.checks import check_choice, check_positive, check_range
from dnn.initialize import INITS
from dnn.optimizers import OPTIMIZERS

DTYPES = ("float64", "float32")


@dataclass
class ModelSettings:
    """The network: hidden layer widths (depth = their count), hidden activation,
    initialization. The output layer follows the labels: sigmoid for one row of 0/1,
    softmax for one-hot rows."""

    hidden_units: List[int] = field(default_factory=lambda: [8, 4])
    activation: str = "tanh"  # relu | leaky_relu | tanh | sigmoid
    init: str = "xavier"  # course | small | he | xavier

    def __post_init__(self):
        check_choice("activation", self.activation, HIDDEN_ACTIVATIONS)
        check_choice("init", self.init, INITS)
        for i, n in enumerate(self.hidden_units):
            check_positive(f"hidden_units[{i}]", n, integer=True)


@dataclass
class TrainSettings:
    """The optimization: step size and length, mini-batches, optimizer and its betas,
    L2 (lambd) and dropout (keep_prob), the seed of initialization, shuffling and
    dropout, the dtype, and the iterations between two validation evaluations."""

    learning_rate: float = 0.3
    num_iterations: int = 1500
    batch_size: Optional[int] = None  # None: full batch; else shuffled mini-batches
    optimizer: str = "gd"  # gd | momentum | adam
    beta: float = 0.9  # momentum
    beta1: float = 0.9  # adam
    beta2: float = 0.999  # adam
    epsilon: float = 1e-8  # adam
    lambd: float = 0.0  # L2 regularization strength
    keep_prob: float = 1.0  # inverted dropout on hidden layers (1.0: off)
    seed: int = 1
    dtype: str = "float64"  # float64 | float32
    eval_every: int = 50

    def __post_init__(self):
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("dtype", self.dtype, DTYPES)
        check_positive("learning_rate", self.learning_rate)
        check_positive("num_iterations", self.num_iterations, integer=True)
        if self.batch_size is not None:
            check_positive("batch_size", self.batch_size, integer=True)
        check_range("lambd", self.lambd, 0, math.inf)
        check_range("keep_prob", self.keep_prob, 0, 1, low_open=True)
        check_positive("eval_every", self.eval_every, integer=True)


MODEL_KEYS = tuple(f.name for f in fields(ModelSettings))
TRAIN_KEYS = tuple(f.name for f in fields(TrainSettings))


def settings_from(model=None, train=None, **overrides):
    """(ModelSettings, TrainSettings) from optional bases and keyword overrides of
    either's fields: settings_from(hidden_units=[20, 7, 5], learning_rate=0.0075)."""
    unknown = set(overrides) - set(MODEL_KEYS) - set(TRAIN_KEYS)
    if unknown:
        raise TypeError(f"unknown setting(s) {sorted(unknown)}; allowed: "
                        f"{', '.join(MODEL_KEYS + TRAIN_KEYS)}")
    pick = lambda keys: {k: v for k, v in overrides.items() if k in keys}  # noqa: E731
    return (replace(model or ModelSettings(), **pick(MODEL_KEYS)),
            replace(train or TrainSettings(), **pick(TRAIN_KEYS)))

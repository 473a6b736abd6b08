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
from dnn.stopping import STOP_METRICS

DTYPES = ("float64", "float32")


@dataclass
class ModelSettings:
    """The network: hidden layer widths (depth = their count), hidden activation,
    initialization. The output layer follows the labels: sigmoid for one row of 0/1,
    softmax for one-hot rows. ensemble: how many such networks fit trains, network k from
    seed train.seed + k, their probabilities averaged (dnn.ensemble)."""

    hidden_units: List[int] = field(default_factory=lambda: [8, 4])
    activation: str = "tanh"  # relu | leaky_relu | tanh | sigmoid
    init: str = "xavier"  # course | small | he | xavier
    ensemble: int = 1  # networks averaged (1: one network)

    def __post_init__(self):
        check_choice("activation", self.activation, HIDDEN_ACTIVATIONS)
        check_choice("init", self.init, INITS)
        for i, n in enumerate(self.hidden_units):
            check_positive(f"hidden_units[{i}]", n, integer=True)
        check_positive("ensemble", self.ensemble, integer=True)


@dataclass
class TrainSettings:
    """The optimization: step size and length, mini-batches, optimizer and its betas,
    L2 (lambd) and dropout (keep_prob), the seed of initialization, shuffling and
    dropout, the dtype, the updates between two validation evaluations, and early
    stopping on the validation curve.

    The length is counted in passes over the training data, one pass the same work in
    both modes: full-batch iterations (num_iterations) or mini-batch epochs (num_epochs,
    an epoch making m / batch_size updates). With patience set, it is a ceiling."""

    learning_rate: float = 0.3
    num_iterations: int = 1500  # full batch (batch_size null): iterations
    num_epochs: int = 200  # mini-batches (batch_size set): epochs
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
    eval_every: int = 50  # updates; with mini-batches rounded to whole epochs (eval_period)
    patience: Optional[int] = None  # evaluations without an improvement of min_delta in
    #                                stop_metric before training stops, keeping the best
    #                                evaluated parameters (null: off, train to the end)
    min_delta: float = 0.0  # the improvement that resets patience, in stop_metric's units
    stop_metric: Optional[str] = None  # val_cost | val_accuracy | val_balanced_accuracy |
    #                                    val_auc (null: val_cost; a sweep's own metric)

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
        check_positive("num_epochs", self.num_epochs, integer=True)
        if self.patience is not None:
            check_positive("patience", self.patience, integer=True)
        check_range("min_delta", self.min_delta, 0, math.inf)
        if self.stop_metric is not None:
            check_choice("stop_metric", self.stop_metric, STOP_METRICS)


def passes(train):
    """The training's length in passes over the data: num_epochs with mini-batches,
    num_iterations in full batch (one iteration or epoch per Trainer.step)."""
    return train.num_iterations if train.batch_size is None else train.num_epochs


def eval_period(train, m):
    """Passes between two validation evaluations on m training examples: eval_every
    updates, which with mini-batches is eval_every // (updates per epoch), at least 1."""
    if train.batch_size is None:
        return train.eval_every
    return max(1, train.eval_every // math.ceil(m / train.batch_size))


def fixed_length(train, best_iteration):
    """The overrides that train for best_iteration + 1 passes without early stopping:
    a refit on all training data, which has no validation split to stop on."""
    key = "num_iterations" if train.batch_size is None else "num_epochs"
    return {key: int(best_iteration) + 1, "patience": None}


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

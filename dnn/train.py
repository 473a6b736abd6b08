"""Training loop: fit, predict, accuracy; mini-batches, L2, dropout, optimizers."""
import math
from dataclasses import replace

import numpy as np

from dnn.checks import check_data
from dnn.cost import compute_cost, l2_cost
from dnn.ensemble import is_ensemble, mean_proba, pack
from dnn.initialize import initialize_parameters
from dnn.metrics import cross_entropy, scores
from dnn.fused import _model_backward_spending, _model_forward_inplace
from dnn.model import output_logits
from dnn.optimizers import initialize_optimizer, update_parameters
from dnn.settings import ModelSettings, TrainSettings, eval_period, passes, settings_from
from dnn.stopping import EarlyStopping


class DivergenceError(FloatingPointError):
    """Training produced a NaN or infinite cost; carries the iteration and cost."""

    def __init__(self, iteration, cost):
        super().__init__(f"training diverged: cost is {cost} at iteration {iteration} "
                         "(try a smaller learning_rate)")
        self.iteration, self.cost = iteration, cost


def output_of(Y):
    """sigmoid for one row of 0/1 labels, softmax for one-hot rows."""
    return "sigmoid" if Y.shape[0] == 1 else "softmax"


def check_hyperparameters(hidden_units, activation, init, learning_rate, num_iterations,
                          batch_size, optimizer, lambd, keep_prob, dtype):
    """ValueError naming the first bad value: the checks of ModelSettings and TrainSettings."""
    ModelSettings(list(hidden_units), activation, init)
    TrainSettings(learning_rate=learning_rate, num_iterations=num_iterations,
                  batch_size=batch_size, optimizer=optimizer, lambd=lambd, keep_prob=keep_prob,
                  dtype=dtype)


def mini_batches(m, batch_size, rng):
    """Index arrays of one shuffled epoch; the whole set, unshuffled, when batch_size is None."""
    if batch_size is None or batch_size >= m:
        return [slice(None)]
    order = rng.permutation(m)
    return [order[k:k + batch_size] for k in range(0, m, batch_size)]


class Trainer:
    """fit() one iteration at a time, so that callers can run several trainings in
    lockstep (the folds of a cross-validation) and look at every step."""

    def __init__(self, X, Y, model=None, train=None, validation=None):
        model, train = model or ModelSettings(), train or TrainSettings()
        dtype = train.dtype
        X, Y = check_data(X, Y)
        self.X, self.Y = X.astype(dtype, copy=False), Y.astype(dtype, copy=False)
        if validation is not None:
            validation = tuple(a.astype(dtype, copy=False) for a in check_data(*validation))
        self.model, self.train, self.validation = model, train, validation
        self.activation, self.output = model.activation, output_of(Y)
        self.parameters = initialize_parameters([X.shape[0], *model.hidden_units, Y.shape[0]],
                                                model.init, train.seed, dtype)
        self.state = initialize_optimizer(self.parameters, train.optimizer)
        # A separate stream for shuffling and dropout, so that init stays the course's draw.
        self.rng = np.random.RandomState(train.seed + 1)
        self.costs = []
        self.passes, self.eval_period = passes(train), eval_period(train, X.shape[1])
        # Early stopping (train.patience) watches the validation split; None without one.
        self.stopping = EarlyStopping.from_settings(train) if validation is not None else None

    @property
    def done(self):
        stopped = self.stopping is not None and self.stopping.stopped
        return stopped or len(self.costs) >= self.passes

    def step(self):
        """One iteration (an epoch with mini-batches); returns (cost, metrics).

        cost is computed before the iteration's updates (with mini-batches, the mean over
        the epoch's batches); metrics holds val_cost, val_accuracy, val_balanced_accuracy
        and val_auc every eval_period iterations and at the last one. With early stopping,
        the step that ends training puts back the parameters of the best evaluation.
        Raises DivergenceError on a NaN/inf cost.
        """
        i, m = len(self.costs), self.X.shape[1]
        # exp overflow in sigmoid saturates correctly to 0 / 1; a NaN from a diverging
        # run is reported once, as DivergenceError, instead of as warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            batches = mini_batches(m, self.train.batch_size, self.rng)
            cost = sum(self._batch_step(idx) for idx in batches) / m
            if not math.isfinite(cost):
                raise DivergenceError(i, cost)
            self.costs.append(cost)
            metrics = {}
            if self.validation is not None and (i % self.eval_period == 0 or self.done):
                metrics = evaluate(self.parameters, *self.validation, self.activation, "val_")
                if self.stopping is not None:
                    self.stopping.update(i, metrics, self.parameters)
                    if self.done:
                        self.parameters = self.stopping.best_parameters
        return cost, metrics

    def _batch_step(self, idx):
        """Forward, cost, backward and update on one batch; returns its cost x its size."""
        X, Y = (self.X, self.Y) if isinstance(idx, slice) else (self.X[:, idx], self.Y[:, idx])
        t = self.train
        AL, caches = _model_forward_inplace(X, self.parameters, self.activation, self.output,
                                            t.keep_prob, self.rng)
        mb = Y.shape[1]
        cost = compute_cost(output_logits(caches), Y) + l2_cost(self.parameters, t.lambd, mb)
        grads = _model_backward_spending(AL, Y, caches, self.activation, t.lambd, t.keep_prob)
        update_parameters(self.parameters, grads, t.learning_rate, t.optimizer, self.state,
                          t.beta, t.beta1, t.beta2, t.epsilon)
        return cost * mb


def fit(X, Y, model=None, train=None, validation=None, callback=None, stopping=None,
        left_out=None, progress=None, **settings):
    """Train the network on X (n_x, m), Y (n_y, m); return (parameters, costs).

    model (ModelSettings) and train (TrainSettings) default to those classes' defaults;
    keyword settings override single fields of either:
    fit(X, Y, hidden_units=[20, 7, 5], activation="relu", learning_rate=0.0075).
    costs[i] is the cost of iteration i, computed before that iteration's update
    (with mini-batches, the mean cost over the epoch's batches). Every eval_every
    updates, and at the last iteration, the cost and accuracy on validation=(X_val,
    Y_val) are computed; with patience set, training stops early on them and returns
    the parameters of the best evaluation (costs then end where it stopped).
    callback(iteration, cost, metrics) is called after each iteration, where metrics holds
    val_cost, val_accuracy, val_balanced_accuracy and val_auc on evaluation steps;
    returning True stops training. stopping, a list, receives the EarlyStopping when
    patience is set (its best_iteration, whether it stopped).
    With model.ensemble = N > 1, N networks are trained in turn, network k from seed
    train.seed + k; parameters hold them all (dnn.ensemble), costs and callback follow
    the first, and stopping receives each one's EarlyStopping. A later network that
    diverges is left out of the ensemble (a rate at the edge of stability can diverge
    from one seed in five): left_out, a list, receives its (seed, DivergenceError).
    progress(k, iteration, cost), if given, follows the later networks (k >= 1).
    Raises DivergenceError on a NaN/inf cost of the (first) network.
    """
    model, train = settings_from(model, train, **settings)
    networks, costs = [], None
    for k in range(model.ensemble):
        trainer = Trainer(X, Y, model, replace(train, seed=train.seed + k), validation)
        later = progress and (lambda i, cost, metrics, k=k: progress(k, i, cost))
        try:
            stopped = _run(trainer, callback if k == 0 else later)
        except DivergenceError as e:
            if k == 0:
                raise
            if left_out is not None:
                left_out.append((train.seed + k, e))
            continue
        if stopping is not None and trainer.stopping is not None:
            stopping.append(trainer.stopping)
        networks.append(trainer.parameters)
        costs = trainer.costs if costs is None else costs
        if stopped:  # the caller stopped the training: no further network
            break
    return pack(networks), costs


def _run(trainer, callback):
    """Step trainer to its end; True when callback stopped it first."""
    while not trainer.done:
        cost, metrics = trainer.step()
        if callback is not None and callback(len(trainer.costs) - 1, cost, metrics):
            return True
    return False


def output_of_parameters(parameters):
    """The output layer of trained parameters: W[L] has one row per output unit."""
    return output_of(parameters[f"W{len(parameters) // 2}"])


def labels_from(AL):
    """Class labels (1, m) from outputs or one-hot Y: 0/1 for one row, argmax otherwise."""
    return (AL > 0.5).astype(int) if AL.shape[0] == 1 else AL.argmax(axis=0)[None, :]


def predict_proba(X, parameters, activation="relu"):
    """Output-layer probabilities AL, shape (n_y, m); an ensemble's: their mean."""
    if is_ensemble(parameters):
        return mean_proba(X, parameters, lambda X, p: predict_proba(X, p, activation))
    with np.errstate(over="ignore"):
        AL, _ = _model_forward_inplace(X, parameters, activation, output_of_parameters(parameters))
    return AL


def predict(X, parameters, activation="relu"):
    """Predicted labels, shape (1, m): 0/1 for binary, the class index for softmax."""
    return labels_from(predict_proba(X, parameters, activation))


def accuracy(X, Y, parameters, activation="relu"):
    """Fraction of examples whose predicted label equals the true one."""
    return float(np.mean(predict(X, parameters, activation) == labels_from(Y)))


def evaluate(parameters, X, Y, activation="relu", prefix=""):
    """Cost, accuracy, balanced accuracy and ROC AUC of parameters on (X, Y), as
    {prefix+"cost", prefix+"accuracy", prefix+"balanced_accuracy", prefix+"auc"}. An
    ensemble's cost is that of its mean probabilities."""
    if is_ensemble(parameters):
        AL = predict_proba(X, parameters, activation)
        return {prefix + "cost": cross_entropy(Y, AL),
                **{prefix + k: v for k, v in scores(Y, AL).items()}}
    with np.errstate(over="ignore"):
        AL, caches = _model_forward_inplace(X, parameters, activation,
                                            output_of_parameters(parameters))
    return {prefix + "cost": compute_cost(output_logits(caches), Y),
            **{prefix + k: v for k, v in scores(Y, AL).items()}}

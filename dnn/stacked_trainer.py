"""Trainer for F models of one architecture at once (the folds of a cross-validation),
as one stacked network (dnn/stacked.py).

Model f is what Trainer(X[:, train_columns[f]], Y[:, train_columns[f]], model,
TrainSettings(seed=seeds[f], ...)) trains, step for step: the same initialization from
its seed, the same random stream (seed + 1) for its mini-batch shuffles (within its
training columns) and dropout masks, its own optimizer state, cost and gradients over its
own columns; equal up to the summation order of the products.

The first layer takes one of two paths, recorded as first_layer: "dense" (W1 itself, its
products with X: dnn/stacked.py's columns) or "span" (W1 as alpha W1_0 + C X.T, products
with the Gram matrix X.T X: dnn/span.py), which is taken by default where it applies and
pays: full batch, gd or momentum, m <= n_x (span_applies).
"""

import numpy as np

from dnn.checks import check_data
from dnn.cost import compute_cost
from dnn.initialize import initialize_parameters
from dnn.settings import ModelSettings, TrainSettings, eval_period, passes
from dnn.stacked import (GatheredColumns, SharedColumns, first_layer_layout, stack,
                         stacked_backward, stacked_cost, stacked_forward, stacked_l2_cost, unstack)
from dnn.metrics import scores
from dnn.span import OPTIMIZERS as SPAN_OPTIMIZERS, SpanColumns, span_applies
from dnn.stacked_columns import FoldColumns, padded
from dnn.train import DivergenceError, output_of


class StackedTrainer:
    def __init__(self, X, Y, train_columns, model=None, train=None, seeds=None,
                 validation_columns=None, first_layer=None):
        model, train = model or ModelSettings(), train or TrainSettings()
        X, Y = check_data(X, Y)
        dtype = train.dtype
        # X both ways, C-contiguous: see SharedColumns; XT, YT also serve mini-batch gathers.
        self.X, self.Y = np.ascontiguousarray(X, dtype), np.ascontiguousarray(Y, dtype)
        self.XT, self.YT = np.ascontiguousarray(self.X.T), np.ascontiguousarray(self.Y.T)
        self.columns = [np.asarray(c) for c in train_columns]
        self.validation_columns, self._validation = validation_columns, None
        self.model, self.train = model, train
        self.output = output_of(Y)
        F = len(self.columns)
        self.m_f = np.array([len(c) for c in self.columns])
        seeds = [train.seed] * F if seeds is None else list(seeds)
        dims = [X.shape[0], *model.hidden_units, Y.shape[0]]
        self.P = stack([initialize_parameters(dims, model.init, s, dtype) for s in seeds])
        self.span = self._span(first_layer)
        self.first_layer = "dense" if self.span is None else "span"
        if self.span is None:
            self.P["W1"] = first_layer_layout(self.P["W1"])
        else:  # from here on P["W1"] holds the coefficients C (F, n1, m), not W1
            self.P["W1"] = self.span.initial_coefficients()
        self.state = initial_state(self.P, train.optimizer, F)
        self.rngs = [np.random.RandomState(s + 1) for s in seeds]
        self.train_mask = np.zeros((F, 1, X.shape[1]), bool)  # (F, 1, m): fold f's columns
        for f, c in enumerate(self.columns):
            self.train_mask[f, 0, c] = True
        self.layout = FoldColumns(self.XT, self.YT, self.columns, train.batch_size,
                                  self._all_columns(), self.Y, self.train_mask)
        self.costs = []  # one (F,) array per iteration
        # The folds are evaluated together: every eval_period passes of the largest fold.
        # Early stopping (train.patience) is its caller's: search/run/cv.py stops all
        # folds together on their mean.
        self.passes, self.eval_period = passes(train), eval_period(train, self.m_f.max())

    @property
    def done(self):
        return len(self.costs) >= self.passes

    def _span(self, first_layer):
        """SpanColumns when the first layer takes the span path, else None."""
        full_batch = self.train.batch_size is None or self.train.batch_size >= self.m_f.max()
        n_x, m = self.X.shape
        if first_layer is None:
            first_layer = "span" if span_applies(n_x, m, self.train.optimizer, full_batch) \
                else "dense"
        if first_layer not in ("span", "dense"):
            raise ValueError(f"first_layer must be 'span' or 'dense', not {first_layer!r}")
        if first_layer == "dense":
            return None
        if not full_batch or self.train.optimizer not in SPAN_OPTIMIZERS:
            raise ValueError("the span path needs full batches and gd or momentum")
        with np.errstate(over="ignore", invalid="ignore"):
            span = SpanColumns(self.X, self.XT, self.P["W1"])
        return span if span.finite else None

    def parameters(self, f):
        p = unstack(self.P, f)
        if self.span is not None:
            p["W1"] = self.span.materialize(self.P["W1"], f)
        return p

    def step(self):
        """One iteration of every fold; returns (costs (F,), [metrics of each fold]), as
        Trainer.step. Raises DivergenceError on the first fold whose cost is not finite."""
        i, F = len(self.costs), len(self.columns)
        with np.errstate(over="ignore", invalid="ignore"):
            totals = np.zeros(F)
            for batch in self.layout.epoch(self.rngs):
                totals[batch.active] += self._batch_step(batch)
            costs = totals / self.m_f
            bad = np.flatnonzero(~np.isfinite(costs))
            if bad.size:
                raise DivergenceError(i, float(costs[bad[0]]))
            self.costs.append(costs)
            metrics = [{}] * F
            if self.validation_columns is not None and (i % self.eval_period == 0
                                                        or self.done):
                metrics = self.evaluate(self.validation_columns, "val_")
        return costs, metrics

    def _batch_step(self, batch):
        """Forward, cost, backward, update of the active folds on their batch (a
        dnn.stacked_columns.Step); returns each one's cost x its batch size."""
        t, F = self.train, len(self.columns)
        active, columns, Y, mask, where = batch
        m_b = mask.sum(axis=(1, 2)).astype(self.X.dtype)  # (F_active,)
        P = self.P if len(active) == F else {k: v[active] for k, v in self.P.items()}

        def draw_mask(shape):  # each fold's dropout mask from its own stream, on its columns
            D = np.zeros(shape, bool)
            for j, f in enumerate(active):
                draw = self.rngs[f].random_sample((shape[1], int(m_b[j])))
                D[j][:, where[j]] = draw < t.keep_prob
            return D

        AL, caches = stacked_forward(columns, P, self.model.activation, self.output,
                                     t.keep_prob, draw_mask)
        cost = stacked_cost(caches[-1].Z, Y, mask, m_b)
        span = columns if columns is self.span else None
        if t.lambd:
            cost = cost + stacked_l2_cost(P, t.lambd, m_b,
                                          None if span is None else span.squared_norm(P["W1"]))
        grads = stacked_backward(columns, AL, Y, mask, m_b, caches, P, self.model.activation,
                                 t.lambd, t.keep_prob)
        update(self.P, grads, self.state, t, None if len(active) == F else active)
        if span is not None:
            span.update(t, m_b)
        return cost * m_b

    def _all_columns(self):
        return SharedColumns(self.X, self.XT) if self.span is None else self.span

    def evaluate(self, columns, prefix=""):
        """[{prefix+"cost", prefix+"accuracy", prefix+"balanced_accuracy", prefix+"auc"}] of
        each fold f on its columns[f] of X: with a dense first layer on those columns
        alone, gathered (F, n_x, c), else (span) on all m."""
        if self.span is None:
            if columns is not self.validation_columns or self._validation is None:
                take = padded(columns)[0]  # (F, c)
                gathered = GatheredColumns(self.XT[take])
                if columns is self.validation_columns:
                    self._validation = gathered  # the same columns at every evaluation
            else:
                gathered = self._validation
            own = [slice(0, len(c)) for c in columns]
        else:
            gathered, own = self.span, columns
        with np.errstate(over="ignore"):
            AL, caches = stacked_forward(gathered, self.P, self.model.activation, self.output)
        ZL = caches[-1].Z
        return [{prefix + "cost": compute_cost(ZL[f][:, o], self.Y[:, c]),
                 **{prefix + k: v for k, v in scores(self.Y[:, c], AL[f][:, o]).items()}}
                for f, (c, o) in enumerate(zip(columns, own))]


def initial_state(P, optimizer, F):
    """Each fold's optimizer state, stacked: step counts t (F,), v and s like P."""
    state = {"t": np.zeros(F, int)}
    if optimizer in ("momentum", "adam"):
        state["v"] = {k: np.zeros_like(p) for k, p in P.items()}
    if optimizer == "adam":
        state["s"] = {k: np.zeros_like(p) for k, p in P.items()}
    return state


def update(P, grads, state, train, active=None):
    """update_parameters of dnn/optimizers.py for every fold, or for the active ones only
    (a fold with fewer mini-batches in an epoch sits its last steps out), in place on P and
    state. grads are the step's own, fresh from stacked_backward: they are spent (written
    over) rather than copied."""
    if active is not None:
        sub_P = {k: v[active] for k, v in P.items()}
        sub = {"t": state["t"][active],
               **{n: {k: v[active] for k, v in state[n].items()} for n in ("v", "s") if n in state}}
        update(sub_P, grads, sub, train)
        for k in P:
            P[k][active] = sub_P[k]
        state["t"][active] = sub["t"]
        for n in ("v", "s"):
            for k in state.get(n, {}):
                state[n][k][active] = sub[n][k]
        return
    lr = train.learning_rate
    if train.optimizer == "gd":
        for k, p in P.items():
            g = grads["d" + k]  # ours: scaled in place, no temporary
            g *= lr
            p -= g
        return
    state["t"] += 1
    t = state["t"]
    dtype = next(iter(P.values())).dtype
    correction1 = (1 - train.beta1 ** t).astype(dtype)[:, None, None]  # (F, 1, 1)
    correction2 = (1 - train.beta2 ** t).astype(dtype)[:, None, None]
    for k, p in P.items():
        g, v = grads["d" + k], state["v"][k]
        if train.optimizer == "momentum":
            v *= train.beta
            v += (1 - train.beta) * g
            p -= lr * v
            continue
        s = state["s"][k]
        v *= train.beta1
        v += (1 - train.beta1) * g
        s *= train.beta2
        g *= g  # ours: squared in place
        g *= 1 - train.beta2
        s += g
        v_hat = v / correction1  # bias correction, as in the course
        s_hat = s / correction2
        np.sqrt(s_hat, out=s_hat)
        s_hat += train.epsilon
        v_hat *= lr
        v_hat /= s_hat
        p -= v_hat  # lr * v_hat / (sqrt(s_hat) + epsilon)


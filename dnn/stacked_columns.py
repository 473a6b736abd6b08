"""The columns each fold of a StackedTrainer computes on, step by step.

A step gives the active folds (those with columns left in the epoch), the first layer's
columns (dnn/stacked.py: SharedColumns, GatheredColumns, or dnn/span.py's SpanColumns),
the labels, the mask of each fold's own columns (F, 1, c) and where those lie for its
dropout draws. Fold f's batches are those of a Trainer on its columns alone: its own
shuffle from its own stream (dnn.train.mini_batches), its columns cut in that order.

- Full batch: every step is the same. With a whole-data layout (SharedColumns, or the
  span's), every fold computes on all m columns, its held-out ones masked; otherwise
  ("own") on its own columns gathered once, (F, n_x, m_f) padded to the largest fold.
- Mini-batches: an epoch lays each fold's shuffled columns in a row of an (F, m_max)
  table, padded at the end; batch k is the table's columns k b .. (k + 1) b, one
  gather for all folds.
"""
from typing import List, NamedTuple

import numpy as np

from dnn.stacked import GatheredColumns
from dnn.train import mini_batches


class Step(NamedTuple):
    active: List[int]  # the folds that train at this step
    columns: object  # the first layer's columns
    Y: np.ndarray  # (n_y, m) with whole-data columns, else (F_active, n_y, c)
    mask: np.ndarray  # (F_active, 1, c): each fold's own columns
    where: list  # each active fold's own columns within c (its dropout masks go there)


def padded(rows):
    """rows (F lists of column indices) as an (F, longest) table, padded with 0, and the
    (F, longest) mask of its real entries."""
    table = np.zeros((len(rows), max(map(len, rows))), int)
    valid = np.zeros(table.shape, bool)
    for f, r in enumerate(rows):
        table[f, :len(r)], valid[f, :len(r)] = r, True
    return table, valid


class FoldColumns:
    def __init__(self, XT, YT, columns, batch_size, whole=None, Y=None, whole_mask=None):
        """XT (m, n_x), YT (m, n_y): the data as rows; columns: each fold's columns of X.
        whole: the whole-data columns for full batch (with Y (n_y, m) and whole_mask
        (F, 1, m)), or None to gather each fold's own."""
        self.XT, self.YT, self.columns, self.batch_size = XT, YT, columns, batch_size
        self.m_f = np.array([len(c) for c in columns])
        self.full_batch = batch_size is None or batch_size >= self.m_f.max()
        everyone = list(range(len(columns)))
        if self.full_batch and whole is not None:
            self.full = Step(everyone, whole, Y, whole_mask, columns)
        elif self.full_batch:
            self.full = self._gathered(everyone, *padded(columns))

    def _gathered(self, active, take, valid):
        """The step over columns take (F_active, c), real where valid."""
        mask = valid[:, None, :]
        Y = self.YT[take].transpose(0, 2, 1)  # (F, c, n_y) rows gathered -> (F, n_y, c)
        where = [slice(0, int(n)) for n in valid.sum(axis=1)]  # real entries come first
        return Step(active, GatheredColumns(self.XT[take]), Y, mask, where)

    def epoch(self, rngs):
        """The steps of one epoch; draws each fold's shuffle from its stream rngs[f]."""
        if self.full_batch:
            return [self.full]
        batches = [mini_batches(m, self.batch_size, rng) for m, rng in zip(self.m_f, rngs)]
        if any(isinstance(b[0], slice) for b in batches):  # a fold within one batch
            return self._uneven(batches)
        order, valid = padded([c[np.concatenate(b)] for c, b in zip(self.columns, batches)])
        steps, b = [], self.batch_size
        for k in range(max(map(len, batches))):
            take, real = order[:, k * b:(k + 1) * b], valid[:, k * b:(k + 1) * b]
            active = np.flatnonzero(real[:, 0])
            if len(active) < len(self.columns):
                take, real = take[active], real[active]
            steps.append(self._gathered(active.tolist(), take, real))
        return steps

    def _uneven(self, batches):
        """Batches of unequal plans: a fold whose set fits one batch takes it whole."""
        steps = []
        for k in range(max(map(len, batches))):
            active = [f for f, b in enumerate(batches) if k < len(b)]
            rows = [self.columns[f][batches[f][k]] for f in active]
            steps.append(self._gathered(active, *padded(rows)))
        return steps

"""A sweep trial's dtype: float64 against float32, side by side in one run, on digits with
5-fold cross-validation as a sweep's trial trains it.

Command (from the repository root):

    uptime; OPENBLAS_NUM_THREADS=1 python bench/bench_dtype.py; uptime

Per case (a network, optimizer and batch size a default digits study samples), each dtype
in turn: the CPU ms of one epoch of the 5 folds (search.run.cv's pick of stacked or
lockstep, time.process_time over a few epochs after a warm-up), and the folds' mean
validation accuracy after training 30 epochs. Printed: both, and the float64 / float32
time ratio.
"""
import argparse
import time

import numpy as np

from dnn import ModelSettings, TrainSettings
from dnn.data import load_dataset
from dnn.train import accuracy
from search.run.cv import fold_runner, fold_splits, training_pool

CASES = {  # name: (hidden units, activation, optimizer, learning rate, batch size)
    "[111] sigmoid momentum b=64": ([111], "sigmoid", "momentum", 0.02, 64),
    "[64, 32] relu adam b=64": ([64, 32], "relu", "adam", 0.003, 64),
    "[26, 75, 38, 42] relu adam b=32": ([26, 75, 38, 42], "relu", "adam", 0.001, 32),
    "[128, 64] tanh adam b=128": ([128, 64], "tanh", "adam", 0.003, 128),
}


def folds_of(X, Y, splits, case, dtype):
    hidden, activation, optimizer, rate, batch_size = case
    model = ModelSettings(hidden, activation, "he")
    train = TrainSettings(learning_rate=rate, optimizer=optimizer, batch_size=batch_size,
                          num_epochs=10 ** 9, dtype=dtype)
    return fold_runner(X, Y, splits, [1] * len(splits), model, train, len(splits))


def val_accuracy(cv, X, Y, splits, activation):
    """The folds' mean accuracy on their held-out columns."""
    return float(np.mean([accuracy(X[:, va], Y[:, va], cv.parameters(k), activation)
                          for k, (_, _, va) in enumerate(splits)]))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=3, help="epochs timed per case and dtype")
    args = p.parse_args()
    np.seterr(all="ignore")
    X, Y, labels = training_pool(load_dataset("digits", seed=0))
    splits = fold_splits(labels, 5, 1, 0)
    print(f"{'case':34} {'f64 ms':>7} {'f32 ms':>7} {'ratio':>6} {'f64 acc':>8} {'f32 acc':>8}")
    for name, case in CASES.items():
        ms, acc = {}, {}
        for dtype in ("float64", "float32"):
            cv = folds_of(X, Y, splits, case, dtype)
            cv.step()  # warm-up
            start = time.process_time()
            for _ in range(args.epochs):
                cv.step()
            ms[dtype] = (time.process_time() - start) / args.epochs * 1e3
            for _ in range(30 - 1 - args.epochs):
                cv.step()
            acc[dtype] = val_accuracy(cv, X, Y, splits, case[1])
        print(f"{name:34} {ms['float64']:7.1f} {ms['float32']:7.1f} "
              f"{ms['float64'] / ms['float32']:6.2f} {acc['float64']:8.4f} {acc['float32']:8.4f}",
              flush=True)


if __name__ == "__main__":
    main()

"""One network against an ensemble of the same configuration (model.ensemble): how much of a
refit's test accuracy is its seed's draw, and what averaging N networks gives back.

Command (from the repository root):

    .venv/bin/python bench/bench_ensemble.py            # digits; splits 0 1 2; 5 seeds

For each split seed, the table (scikit-learn's bundled copy) is split 70/30, stratified, as
bench/bench_vs_sklearn.py splits it, and standardized on the 70%. One configuration, the
best trial of a 60 s default digits study on split 1 (one ReLU layer of 98 units, Adam at
0.0127, L2 0.0486, batches of 64, 58 epochs, float32), is trained on the 70% from seeds
1..N as the refit trains it (dnn.fit, model.ensemble=N trains them in turn), and scored on
the 30%: each network alone, then the mean of the first k networks' probabilities for
k = 1..N. Printed: each network's test accuracy, their mean and range, and the ensemble's.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_vs_sklearn import split  # noqa: E402

from dnn import fit, predict_proba  # noqa: E402
from dnn.data import one_hot  # noqa: E402
from dnn.ensemble import members  # noqa: E402

CONFIG = dict(hidden_units=[98], activation="relu", optimizer="adam",
              learning_rate=0.012672066482609119, lambd=0.04860808344942595, batch_size=64,
              num_epochs=58, dtype="float32", seed=1)


def standardized(X_tr, X_te):
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    std[std == 0] = 1.0
    return ((X_tr - mean) / std).T, ((X_te - mean) / std).T  # (n_x, m): examples as columns


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--splits", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--networks", type=int, default=5)
    args = parser.parse_args()
    print(f"{'split':>5s} {'each network alone':>40s} {'mean':>7s} {'range':>15s} "
          f"{'ensembles of 1..N':>40s}")
    for seed in args.splits:
        X_tr, X_te, y_tr, y_te = split(args.data, seed)
        X, X_test = standardized(X_tr, X_te)
        n_classes = int(y_tr.max()) + 1
        Y = one_hot(y_tr, n_classes) if n_classes > 2 else y_tr[None, :]
        parameters, _ = fit(X, Y, ensemble=args.networks, **CONFIG)
        proba = [predict_proba(X_test.astype(np.float32), p, "relu") for p in members(parameters)]
        score = lambda AL: float(np.mean(  # noqa: E731
            (AL.argmax(0) if AL.shape[0] > 1 else (AL[0] > 0.5)) == y_te))
        alone = [score(AL) for AL in proba]
        ensembles = [score(np.mean(proba[:k], axis=0)) for k in range(1, len(proba) + 1)]
        print(f"{seed:5d} {' '.join(f'{a:.4f}' for a in alone):>40s} {np.mean(alone):7.4f} "
              f"{min(alone):.4f}-{max(alone):.4f} {' '.join(f'{e:.4f}' for e in ensembles):>40s}",
              flush=True)


if __name__ == "__main__":
    main()

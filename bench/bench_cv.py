"""Does 5-fold cross-validation choose configs better than one validation split?

Command (from the repository root):

    .venv/bin/python bench/bench_cv.py

Options: --configs N (default 30), --seed S (draws of the configs, default 0),
--data-seeds S... (moons draws to repeat on, default 1 2 3), --folds K (default 5).

Data: moons with noise 0.3 (dnn.data.load_dataset), 1,400 points: 400 are the training
data a sweep would see, 1,000 are held out as the test split (an .npz with X, y, X_test,
y_test, loaded through data=npz as a user's file would be; no standardization). A small
noisy training set is where one 80-point validation split is least reliable.

A fixed set of configs is drawn at random (seeded): learning rate log-uniform in
[1e-3, 1], 1-4 hidden layers of 2-32 units (log-uniform), hidden activation in relu,
leaky_relu, tanh, sigmoid, 500-3000 full-batch iterations (step 500); xavier init,
gradient descent, seed 1. Each config is scored three ways, in-process, without MLflow:

  single split  val_cost on the seeded stratified 20% validation split, training on the
                other 80% (what a sweep selects on by default: data.val_fraction=0.2);
  5-fold CV     mean val_cost over 5 stratified folds of all 400 training points
                (search.cv.cross_validate, what search.cv.folds=5 runs);
  held-out      test_cost (and test accuracy) on the 1,000 test points after training on
                all 400 training points (what search.refit does for the best config).

Printed, for each of three draws of the data (the config set stays the same): the
Spearman rank correlation of each selection score with the held-out score (higher is
better: the selection ranks configs as the test split would), over all configs and over
the better half (the configs best on the test split: a random set holds many clearly bad
configs that any method ranks right), and the held-out score of the config each method
picks, next to the best held-out score of the set. A config that diverges counts as the
worst (infinite cost). The 1-minute load average is printed for context; only the timing
line depends on it.
"""
import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dnn import DivergenceError, evaluate, fit  # noqa: E402
from dnn.data import load_dataset, train_val_split  # noqa: E402
from search.run.cv import cross_validate  # noqa: E402
from common import load1  # noqa: E402

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")



def make_npz(path, seed, n_train=400, n_test=1000, noise=0.3):
    """moons: n_train training points and n_test held-out points, as a user's .npz."""
    d = load_dataset("moons", n_samples=n_train + n_test, noise=noise, val_fraction=0.0,
                     seed=seed)
    X, y = d.X_train.T, d.y_train
    train_idx, test_idx = train_val_split(y, n_test / (n_train + n_test), 7)
    np.savez(path, X=X[train_idx], y=y[train_idx], X_test=X[test_idx], y_test=y[test_idx])
    return path


def draw_configs(n, seed):
    rng = np.random.RandomState(seed)
    configs = []
    for _ in range(n):
        depth = rng.randint(1, 5)
        configs.append({
            "hidden_units": [int(round(math.exp(rng.uniform(math.log(2), math.log(32)))))
                             for _ in range(depth)],
            "activation": ACTIVATIONS[rng.randint(len(ACTIVATIONS))],
            "learning_rate": float(10 ** rng.uniform(-3, 0)),
            "num_iterations": int(500 * rng.randint(1, 7)),
        })
    return configs


def fit_kwargs(config):
    return {**config, "init": "xavier", "optimizer": "gd", "seed": 1, "dtype": "float64",
            "eval_every": 50}


def single_split(data, config):
    kwargs = fit_kwargs(config)
    try:
        parameters, _ = fit(data.X_train, data.Y_train, **kwargs,
                            validation=(data.X_val, data.Y_val))
    except DivergenceError:
        return math.inf
    return evaluate(parameters, data.X_val, data.Y_val, config["activation"])["cost"]


def cv_score(data, config, folds):
    try:
        _, finals, _, _ = cross_validate(data, fit_kwargs(config), folds, 1, 1,
                                         lambda *a: False)
    except DivergenceError:
        return math.inf
    return finals["val_cost"]


def held_out(data, config):
    kwargs = fit_kwargs(config)
    kwargs.pop("eval_every")
    try:
        parameters, _ = fit(data.X_train, data.Y_train, **kwargs)
    except DivergenceError:
        return math.inf, 0.0
    m = evaluate(parameters, data.X_test, data.Y_test, config["activation"])
    return m["cost"], m["accuracy"]


def spearman(a, b):
    from scipy.stats import spearmanr

    big = lambda v: np.where(np.isfinite(v), v, 1e300)  # noqa: E731 - diverged: the worst
    return float(spearmanr(big(np.asarray(a)), big(np.asarray(b))).statistic)


def evaluate_set(configs, data_seed, folds, show):
    """Score every config three ways on one draw of the data; returns the summary."""
    with tempfile.TemporaryDirectory(prefix="bench-cv-") as tmp:
        path = make_npz(Path(tmp) / "moons.npz", data_seed)
        # what a sweep sees (validation split) and what the refit sees (all training data)
        split = load_dataset("npz", path=str(path), val_fraction=0.2, seed=1)
        full = load_dataset("npz", path=str(path), val_fraction=0.0, seed=1)
    if show:
        print(f"data: moons noise 0.3, seed {data_seed}; training {full.X_train.shape[1]} "
              f"points (single split: {split.X_train.shape[1]} train / "
              f"{split.X_val.shape[1]} validation; CV: {folds} folds of all "
              f"{full.X_train.shape[1]}), held-out test {full.X_test.shape[1]} points\n")
        print(f"{'#':>3} {'hidden_units':16} {'activation':10} {'lr':>8} {'iters':>5} "
              f"{'split val':>10} {'CV val':>10} {'test cost':>10} {'test acc':>8}")
    rows = []
    for i, c in enumerate(configs):
        s = single_split(split, c)
        v = cv_score(full, c, folds)
        t, acc = held_out(full, c)
        rows.append((s, v, t, acc))
        if show:
            print(f"{i:>3} {str(c['hidden_units']):16} {c['activation']:10} "
                  f"{c['learning_rate']:8.4f} {c['num_iterations']:5d} {s:10.4f} {v:10.4f} "
                  f"{t:10.4f} {acc:8.3f}", flush=True)
    s, v, t, acc = (np.array(col) for col in zip(*rows))
    top = np.argsort(t)[:len(t) // 2]  # the better half: where choosing is hard
    out = {"rho_single": spearman(s, t), "rho_cv": spearman(v, t),
           "rho_single_top": spearman(s[top], t[top]), "rho_cv_top": spearman(v[top], t[top])}
    for name, scores in (("single", s), ("cv", v)):
        k = int(np.argmin(scores))
        out[f"pick_{name}"] = (k, t[k], acc[k], int(np.sum(t < t[k])) + 1)
    k = int(np.argmin(t))
    out["oracle"] = (k, t[k], acc[k], 1)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0, help="seed of the config draws")
    p.add_argument("--data-seeds", type=int, nargs="+", default=[1, 2, 3],
                   help="moons draws to repeat the comparison on (default 1 2 3)")
    p.add_argument("--folds", type=int, default=5)
    args = p.parse_args(argv)
    np.seterr(all="ignore")
    start = time.perf_counter()
    print(f"cores: {os.cpu_count()}; load average (1 min) at start: {load1():.2f}")
    configs = draw_configs(args.configs, args.seed)
    print(f"{len(configs)} configs drawn with seed {args.seed}; data seeds {args.data_seeds} "
          "(the table: the first one)")
    results = []
    for n, data_seed in enumerate(args.data_seeds):
        results.append((data_seed, evaluate_set(configs, data_seed, args.folds, show=n == 0)))
        print(f"  data seed {data_seed} done ({time.perf_counter() - start:.0f} s)", flush=True)

    print(f"\nSpearman rank correlation of the selection score with the held-out test cost "
          f"(1.0: same ranking); 'better half' = the {args.configs // 2} configs best on test:")
    print(f"  {'data seed':>9} {'single split':>13} {f'{args.folds}-fold CV':>10} "
          f"{'single, better half':>20} {'CV, better half':>16}")
    for data_seed, r in results:
        print(f"  {data_seed:>9} {r['rho_single']:+13.3f} {r['rho_cv']:+10.3f} "
              f"{r['rho_single_top']:+20.3f} {r['rho_cv_top']:+16.3f}")
    mean = lambda key: float(np.mean([r[key] for _, r in results]))  # noqa: E731
    print(f"  {'mean':>9} {mean('rho_single'):+13.3f} {mean('rho_cv'):+10.3f} "
          f"{mean('rho_single_top'):+20.3f} {mean('rho_cv_top'):+16.3f}")
    print("\nheld-out score of the config each method picks (lowest selection cost); rank on "
          f"the test split among {args.configs}:")
    for data_seed, r in results:
        line = "  ".join(f"{label} #{r[key][0]:<2} test cost {r[key][1]:.4f} acc {r[key][2]:.3f} "
                         f"(rank {r[key][3]})"
                         for label, key in (("single", "pick_single"), ("CV", "pick_cv"),
                                            ("oracle", "oracle")))
        print(f"  data seed {data_seed}: {line}")
    for label, key in (("single split", "pick_single"), (f"{args.folds}-fold CV", "pick_cv"),
                       ("oracle", "oracle")):
        print(f"  mean over data seeds, {label:13}: test cost "
              f"{np.mean([r[key][1] for _, r in results]):.4f}, test accuracy "
              f"{np.mean([r[key][2] for _, r in results]):.3f}")
    print(f"\n{time.perf_counter() - start:.0f} s; load average (1 min) at end: {load1():.2f}")


if __name__ == "__main__":
    main()

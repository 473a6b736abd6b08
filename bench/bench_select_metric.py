"""Which validation metric should a study select on, on the course's cat/non-cat data?

Command (from the repository root; needs the course's two HDF5 files, see bench/common.py):

    python bench/bench_select_metric.py            # --configs 10 --seed 0 --folds 5

A fixed set of configs is drawn at random (seeded) from the course's space
(conf/search/space/course.yaml: learning rate log-uniform in [1e-3, 0.05], 1-4 hidden
layers of 2-32 units, relu / leaky_relu / tanh, course / he / xavier init), with 500 or
1,000 full-batch iterations (fewer than the space's 2,500: a short run on a shared
machine), float32. Each config is scored as a sweep with search.cv.folds=5 scores it (the
mean over 5 stratified folds of the 209 training images: val_cost, val_accuracy,
val_balanced_accuracy, val_auc), then refit on all 209 images and evaluated on the 50
test images, as search.refit does.

Printed: each config's CV scores and test scores; for each CV metric, the Spearman rank
correlation with the test ROC AUC and the test balanced accuracy over the configs (a good
selection metric ranks configs as the test split does) and the test scores of the config
it would pick; and the baselines of a model that learns nothing. The training images are
34% cats, the test images 66%: accuracy rewards predicting the training majority, which
the test split punishes.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import cat_dir, load1  # noqa: E402

METRICS = ("val_cost", "val_accuracy", "val_balanced_accuracy", "val_auc")


def draw_configs(n, seed):
    rng = np.random.RandomState(seed)
    configs = []
    for _ in range(n):
        depth = rng.randint(1, 5)
        units = [int(round(np.exp(rng.uniform(np.log(2), np.log(32))))) for _ in range(depth)]
        configs.append({"learning_rate": float(np.exp(rng.uniform(np.log(1e-3), np.log(0.05)))),
                        "num_iterations": int(rng.choice([500, 1000])),
                        "hidden_units": units,
                        "activation": str(rng.choice(["relu", "leaky_relu", "tanh"])),
                        "init": str(rng.choice(["course", "he", "xavier"]))})
    return configs


def score(data, config, folds):
    from dnn import evaluate, fit
    from search.run.cv import cross_validate

    kwargs = {**config, "optimizer": "gd", "seed": 1, "dtype": "float32", "eval_every": 10**6}
    try:
        _, cv, _, _ = cross_validate(data, dict(kwargs), folds, 1, 1, lambda *a: False)
        kwargs.pop("eval_every")
        parameters, _ = fit(data.X_train, data.Y_train, **kwargs)
        test = evaluate(parameters, data.X_test, data.Y_test, config["activation"], "test_")
    except FloatingPointError:  # diverged: the worst of every score
        cv = {"val_cost": np.inf, "val_accuracy": 0, "val_balanced_accuracy": 0, "val_auc": 0}
        test = {"test_cost": np.inf, "test_accuracy": 0, "test_balanced_accuracy": 0,
                "test_auc": 0}
    return cv, test


def spearman(a, b):
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--configs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    folder = cat_dir()
    if folder is None:
        sys.exit("the course's cat/non-cat files were not found (set DNNSWEEP_CAT_DIR)")
    from dnn.data import load_dataset
    from search.run.baseline import refit_baselines, run_baselines

    data = load_dataset("cat", dir=str(folder), val_fraction=0.0)
    start, rows = time.time(), []
    for i, config in enumerate(draw_configs(args.configs, args.seed)):
        cv, test = score(data, config, args.folds)
        rows.append((config, cv, test))
        print(f"{i:>2} lr={config['learning_rate']:.4f} it={config['num_iterations']:>4} "
              f"{str(config['hidden_units']):<16} {config['activation']:<10} {config['init']:<7}"
              + "".join(f" {m[4:]}={cv[m]:.3f}" for m in METRICS)
              + f" | test auc={test['test_auc']:.3f} bal={test['test_balanced_accuracy']:.3f}"
              f" acc={test['test_accuracy']:.3f}", flush=True)
    base = run_baselines(data, args.folds, 1, 1).values
    print(f"\nbaselines: 5-fold " + " ".join(f"{m}={base[m]:.3f}" for m in METRICS)
          + " | test " + " ".join(f"{k}={v:.3f}" for k, v in refit_baselines(data).items()))
    print(f"{'selected on':<22} {'rho test_auc':>12} {'rho test_bal':>12}   pick: test auc / bal / acc")
    test_auc = [t["test_auc"] for _, _, t in rows]
    test_bal = [t["test_balanced_accuracy"] for _, _, t in rows]
    for m in METRICS:
        sign = -1.0 if m == "val_cost" else 1.0
        values = [sign * cv[m] for _, cv, _ in rows]
        pick = rows[int(np.argmax(values))][2]
        print(f"{m:<22} {spearman(values, test_auc):>+12.2f} {spearman(values, test_bal):>+12.2f}"
              f"   {pick['test_auc']:.3f} / {pick['test_balanced_accuracy']:.3f} / "
              f"{pick['test_accuracy']:.3f}")
    print(f"best of the set on the test split: auc {max(test_auc):.3f}, balanced accuracy "
          f"{max(test_bal):.3f}")
    print(f"({time.time() - start:.0f} s, load {load1():.1f})")


if __name__ == "__main__":
    main()

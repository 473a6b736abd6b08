"""The cost of a K-fold cross-validated trial against one plain fit, before and after a
change of the code, side by side in one run.

Command (from the repository root):

    uptime; python bench/bench_cv_speed.py --before REF; uptime

Per case (digits: the 1,797 examples of the non-test pool, 64 features, 10 classes; relu
hidden layers, he init), each round runs both versions of the code in turn, each in its
own process with one BLAS thread (as a sweep's worker): this checkout, and REF's dnn/ and
search/ (git archive). Each times blocks of iterations (epochs with mini-batches) of:

  plain     a trial without CV: one dnn.Trainer on the first fold's training columns,
            validated on its held-out ones every eval_every updates;
  cv        the K folds as search.run.cv.cross_validate runs them (choose_method's pick:
            the stacked network, or lockstep);
  lockstep  K dnn.Trainer stepped in turn (training each fold separately).

With --widths N,...: where the line lies in full batch between stacked and lockstep, on
random inputs of N features (1,800 examples, 10 classes, adam, [16] and [64, 32]), in this
checkout only: ms per iteration of both, their ratio and choose_method's pick.

Timed in CPU seconds of the process (time.process_time: with one BLAS thread, the work
itself, which a busy machine stretches in wall time but much less in CPU time).
Printed: the median CPU ms per iteration over rounds, cv / plain (what a K-fold trial costs
in plain fits) and the method picked, for each version; the 1-minute load average.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from inspect import signature
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = {  # name: (hidden units, optimizer, batch size, iterations per block)
    "adam full": ([64, 32], "adam", None, 10),
    "gd b=64": ([64, 32], "gd", 64, 2),
    "adam b=64": ([64, 32], "adam", 64, 2),
    "adam b=256": ([64, 32], "adam", 256, 3),
    "gd full": ([64, 32], "gd", None, 10),
}


def worker(cases, folds):
    """Times one round of every case with the code on sys.path; prints JSON."""
    import numpy as np

    from dnn import ModelSettings, Trainer, TrainSettings
    from dnn.data import load_dataset
    from search.run.cv import Lockstep, Stacked, choose_method, fold_splits, training_pool

    np.seterr(all="ignore")
    X, Y, y = training_pool(load_dataset("digits", seed=0))
    splits = fold_splits(y, folds, 1, 0)
    out = {}
    for name in cases:
        hidden, optimizer, batch_size, iters = CASES[name]
        model = ModelSettings(hidden, "relu", "he")
        train = TrainSettings(learning_rate=1e-3, optimizer=optimizer, batch_size=batch_size,
                              num_iterations=10 ** 9, num_epochs=10 ** 9)
        n_y = {"n_y": Y.shape[0]} if "n_y" in signature(choose_method).parameters else {}
        method = choose_method(X.shape[0], X.shape[1], model, train, folds, **n_y)
        lockstep = Lockstep(X, Y, splits, [1] * folds, model, train)
        cv = lockstep if method == "lockstep" else Stacked(X, Y, splits, [1] * folds, model,
                                                           train)
        _, tr, va = splits[0]
        plain = Trainer(X[:, tr], Y[:, tr], model, train, validation=(X[:, va], Y[:, va]))
        steps = {"plain": plain.step, "cv": cv.step,
                 "lockstep": lockstep.step}
        out[name] = {"method": method}
        for runner, step in steps.items():
            step()  # warm-up
            start = time.process_time()
            for _ in range(iters):
                step()
            out[name][runner] = (time.process_time() - start) / iters
    print(json.dumps(out))


def widths(n_xs, folds, rounds):
    """The full-batch line between stacked and lockstep over input widths (in-process)."""
    import numpy as np

    from dnn import ModelSettings, TrainSettings
    from search.run.cv import Lockstep, Stacked, choose_method, fold_splits

    np.seterr(all="ignore")
    rng = np.random.RandomState(0)
    train = TrainSettings(learning_rate=1e-3, optimizer="adam", num_iterations=10 ** 9)
    print(f"{'n_x':>5} {'hidden':10} {'stacked':>8} {'lockstep':>9} {'lock/stk':>8} "
          f"{'picked':>9}")
    for n_x in n_xs:
        X, y = rng.rand(n_x, 1800), rng.randint(0, 10, 1800)
        Y, splits = np.eye(10)[:, y], fold_splits(y, folds, 1, 0)
        for hidden in ([16], [64, 32]):
            model = ModelSettings(hidden, "relu", "he")
            runs = {k: cls(X, Y, splits, [1] * folds, model, train).step
                    for k, cls in (("stacked", Stacked), ("lockstep", Lockstep))}
            t = {k: [] for k in runs}
            for _ in range(rounds):
                for k, step in runs.items():
                    start = time.process_time()
                    for _ in range(4):
                        step()
                    t[k].append((time.process_time() - start) / 4 * 1e3)
            ms = {k: statistics.median(v) for k, v in t.items()}
            print(f"{n_x:5} {str(hidden):10} {ms['stacked']:8.1f} {ms['lockstep']:9.1f} "
                  f"{ms['lockstep'] / ms['stacked']:8.2f} "
                  f"{choose_method(n_x, 1800, model, train, folds, 10):>9}", flush=True)


def unpack(ref, folder):
    """REF's dnn/ and search/ into folder (git archive)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "dnn", "search"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)


def one_round(code, cases, folds):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [sys.executable, __file__, "--worker", "--code", str(code), "--folds", str(folds),
           "--cases", ",".join(cases)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                      env=env).stdout.splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", default=None, help="git ref of the code to compare against")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--widths", default=None, help="input widths N,...: the full-batch line")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--code", default=str(REPO), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    cases = args.cases.split(",")
    if args.worker or args.widths:
        sys.path.insert(0, args.code)
    if args.worker:
        return worker(cases, args.folds)
    if args.widths:
        print(f"load average (1 min) {os.getloadavg()[0]:.2f}; one BLAS thread: run with "
              f"OPENBLAS_NUM_THREADS=1")
        widths([int(n) for n in args.widths.split(",")], args.folds, args.rounds)
        return print(f"load average (1 min) at the end {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        versions = {"after": REPO}
        if args.before:
            unpack(args.before, tmp)
            versions = {"before": Path(tmp), **versions}
        print(f"digits, K={args.folds} folds, {args.rounds} rounds, one BLAS thread; "
              f"load average (1 min) {os.getloadavg()[0]:.2f}", flush=True)
        runs = {v: [] for v in versions}
        for _ in range(args.rounds):
            for v, code in versions.items():
                runs[v].append(one_round(code, cases, args.folds))
    report(cases, runs)
    print(f"load average (1 min) at the end {os.getloadavg()[0]:.2f}")


def report(cases, runs):
    head = f"{'case':12} {'version':8} {'plain':>8} {'cv':>8} {'lockstep':>9} " \
           f"{'cv/plain':>8} {'lock/plain':>10} {'method':>9}"
    print(head + "\n" + "-" * len(head))
    for name in cases:
        for v, rounds in runs.items():
            ms = {r: statistics.median(x[name][r] for x in rounds) * 1e3
                  for r in ("plain", "cv", "lockstep")}
            print(f"{name:12} {v:8} {ms['plain']:8.2f} {ms['cv']:8.2f} {ms['lockstep']:9.2f} "
                  f"{ms['cv'] / ms['plain']:8.2f} {ms['lockstep'] / ms['plain']:10.2f} "
                  f"{rounds[0][name]['method']:>9}")


if __name__ == "__main__":
    main()

"""Cost of tracking one run in MLflow: a tracked run against the same training untracked.

Command (from the repository root):

    .venv/bin/python bench/bench_tracking.py

Options: --threads N (BLAS threads for both kinds of run, default 1: with 2 threads on a
busy 2-core machine one straggling thread stalls every matrix product and identical runs
differ by 2x), --rounds N (tracked/untracked pairs, default 3), --iterations N (default
2500), --random-data (the npz fallback even when the files exist), --no-logging-calls
(skip the log_metric vs log_batch figures at the end).

The training is the course's deep network on cat/non-cat (experiment=course_deep:
[12288, 20, 7, 5, 1], relu, course init, learning rate 0.0075, 2500 full-batch iterations,
float64, test split evaluated every 100 iterations). The course's files are read from
$DNNSWEEP_CAT_DIR or ../shared/data/catvnoncat; when they are missing, an .npz of random
pixels of the same shape (209 + 50 images of 64x64x3) is used through data=npz.

  tracked   = search.run.train.train_run(cfg, progress=False) on a temporary local SQLite MLflow
              store: config check, data loading, run, params, data set, every train_cost
              point, test metrics, config/overrides/parameters/cost-curve artifacts, the
              pyfunc model, terminal status.
  untracked = what is left without MLflow: the same config check and data loading, then
              dnn.fit with the same arguments (same validation split, same eval_every)
              and the final evaluation.

mlflow, matplotlib and the store (its tables, the experiment) are set up before timing,
by one short warm-up run of each kind: a sweep pays them once, not per run. Tracked and
untracked runs alternate (U T, T U, U T, ...), so drifting machine load hits both alike; the
ratio is reported on the medians and as the median of the per-round ratios. The tracked
run is also split into its time in dnn.fit (including the per-step callback, timed
apart) and the rest (MLflow calls, plot, model). The 1-minute load average is printed
with every round: on a 2-core machine, a load above ~2 means other processes took CPU
from these timings.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import hydra  # noqa: E402

import search.run.train as run_mod  # noqa: E402
from dnn import evaluate, fit  # noqa: E402
from common import cat_dir, load1  # noqa: E402
from search.config import check_run_config, conf_dir, fit_kwargs, run_config  # noqa: E402

TARGET = 1.03




def random_cat_npz(path):
    """Random pixels shaped like cat/non-cat: 209 train and 50 test images of 64x64x3."""
    rng = np.random.RandomState(0)
    np.savez(path, X=rng.rand(209, 64, 64, 3), y=rng.randint(0, 2, 209),
             X_test=rng.rand(50, 64, 64, 3), y_test=rng.randint(0, 2, 50))
    return path


def compose(tmp, iterations, random_data=False):
    d = None if random_data else cat_dir()
    if d is not None:
        data = [f"data.dir={d}"]
        source = f"cat/non-cat files in {d}"
    else:
        npz = random_cat_npz(Path(tmp) / "random_cat.npz")
        data = ["data=npz", f"data.path={npz}", "data.standardize=false", "data.val_fraction=0.0"]
        source = "random data of the cat/non-cat shape (the course's files were not found)"
    overrides = ["experiment=course_deep", *data, f"train.num_iterations={iterations}",
                 f"tracking.uri=sqlite:///{tmp}/mlruns/mlflow.db",
                 f"tracking.artifact_root={tmp}/mlruns/artifacts",
                 "tracking.experiment=bench-tracking"]
    with hydra.initialize_config_dir(conf_dir(), version_base="1.3"):
        cfg = hydra.compose("config", overrides=overrides)
    return run_config(cfg), overrides, source


def untracked_run(cfg):
    """train_run minus MLflow: check, load, fit with the same arguments, evaluate."""
    cfg = run_config(cfg)
    check_run_config(cfg)
    data, split, evaluation = run_mod.load_run_data(cfg)
    kwargs = fit_kwargs(cfg)
    eval_every = kwargs.pop("eval_every")
    t = time.perf_counter()
    parameters, costs = fit(data.X_train, data.Y_train, **kwargs, validation=evaluation,
                            eval_every=eval_every)
    fit_s = time.perf_counter() - t
    evaluate(parameters, data.X_train, data.Y_train, kwargs["activation"])
    if evaluation is not None:
        evaluate(parameters, *evaluation, kwargs["activation"], f"{split}_")
    return costs, fit_s


class FitTimer:
    """Wraps search.run.train.fit (the name train_run calls) to time dnn.fit and its callback."""

    def __init__(self):
        self.fit_s = self.callback_s = 0.0
        self.in_fit = False

    def __call__(self, *args, callback=None, **kwargs):
        def timed_callback(*a):
            t = time.perf_counter()
            try:
                return callback(*a)
            finally:
                self.callback_s += time.perf_counter() - t

        t = time.perf_counter()
        self.in_fit = True
        try:
            return fit(*args, callback=timed_callback if callback else None, **kwargs)
        finally:
            self.in_fit = False
            self.fit_s += time.perf_counter() - t


class FlushTimer:
    """Wraps Tracker.flush (log_batch of the buffered points) to count the flushes made
    while dnn.fit runs (the periodic ones, by tracking.flush_seconds)."""

    def __init__(self, timer_ref):
        import search.tracking.runs

        self.cls, self.orig, self.timer_ref = search.tracking.runs.Tracker, \
            search.tracking.runs.Tracker.flush, timer_ref
        self.reset()
        outer = self

        def flush(tracker):
            t = time.perf_counter()
            try:
                return outer.orig(tracker)
            finally:
                if outer.timer_ref() is not None and outer.timer_ref().in_fit:
                    outer.in_fit_n += 1
                    outer.in_fit_s += time.perf_counter() - t
        self.cls.flush = flush

    def reset(self):
        self.in_fit_n, self.in_fit_s = 0, 0.0


CURRENT = [None]


def tracked_run(cfg, overrides):
    timer = FitTimer()
    CURRENT[0] = timer
    run_mod.fit = timer
    try:
        result = run_mod.train_run(cfg, overrides, progress=False)
    finally:
        run_mod.fit = fit
    return result, timer


def logging_calls(uri, n=2500):
    """Seconds for n single log_metric calls vs one log_batch of n points, same store."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("bench-tracking").experiment_id
    run = client.create_run(exp, run_name="log_metric-calls").info.run_id
    t = time.perf_counter()
    for i in range(n):
        client.log_metric(run, "cost", 1.0 / (i + 1), step=i)
    single = time.perf_counter() - t
    client.set_terminated(run)
    run = client.create_run(exp, run_name="log_batch-call").info.run_id
    now = int(time.time() * 1000)
    points = [Metric("cost", 1.0 / (i + 1), now, i) for i in range(n)]
    t = time.perf_counter()
    client.log_batch(run, metrics=points)
    batch = time.perf_counter() - t
    client.set_terminated(run)
    return single, batch


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="tracked/untracked pairs (default 3)")
    p.add_argument("--iterations", type=int, default=2500)
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads for both kinds of run (default 1; 0: the BLAS default)")
    p.add_argument("--random-data", action="store_true",
                   help="use random data of the cat/non-cat shape even when the files exist")
    p.add_argument("--no-logging-calls", action="store_true",
                   help="skip the log_metric vs log_batch figures")
    args = p.parse_args(argv)
    os.environ.pop("MLFLOW_TRACKING_URI", None)  # it would win over the temporary store
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    np.seterr(all="ignore")
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)

    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as tmp:
        cfg, overrides, source = compose(tmp, args.iterations, args.random_data)
        print(f"data: {source}")
        print(f"network {list(cfg.model.hidden_units)} {cfg.model.activation} init={cfg.model.init} "
              f"lr={cfg.train.learning_rate} iterations={cfg.train.num_iterations} "
              f"{cfg.train.dtype}; store {cfg.tracking.uri}")
        print(f"BLAS threads: {args.threads or 'BLAS default'}; "
              f"cores: {os.cpu_count()}; load average (1 min) at start: {load1():.2f}")

        flushes = FlushTimer(lambda: CURRENT[0])
        t = time.perf_counter()
        import mlflow  # noqa: F401 - once, before timing, as a sweep does
        import_s = time.perf_counter() - t
        warm = cfg.copy()
        warm.train.num_iterations = 20
        t = time.perf_counter()
        tracked_run(warm, overrides)  # creates the store, its tables and the experiment,
        warm_tracked = time.perf_counter() - t  # imports matplotlib and mlflow.pyfunc
        untracked_run(warm)
        print(f"set-up, not timed below: import mlflow {import_s:.2f} s; first tracked run "
              f"(20 iterations, creates store + experiment) {warm_tracked:.2f} s\n")

        rows = []
        print(f"{'round':>5} {'untracked s':>11} {'(cpu s)':>8} {'tracked s':>9} {'(cpu s)':>8} "
              f"{'in fit s':>8} {'callback s':>10} {'flushes':>10} {'rest s':>6} "
              f"{'ratio':>6} {'cpu ratio':>9} {'load1':>6}")
        for r in range(1, args.rounds + 1):
            def run_untracked():
                t, c = time.perf_counter(), time.process_time()
                costs, fit_s = untracked_run(cfg)
                return costs, fit_s, time.perf_counter() - t, time.process_time() - c

            def run_tracked():
                flushes.reset()
                t, c = time.perf_counter(), time.process_time()
                result, timer = tracked_run(cfg, overrides)
                return result, timer, time.perf_counter() - t, time.process_time() - c

            if r % 2:  # U T, then T U, ...: a load that drifts during a round hits both kinds
                costs_u, fit_u, u, uc = run_untracked()
                result, timer, tr, tc = run_tracked()
            else:
                result, timer, tr, tc = run_tracked()
                costs_u, fit_u, u, uc = run_untracked()
            if result.costs != costs_u:
                print("warning: tracked and untracked cost curves differ")
            rows.append((u, uc, tr, tc, timer.fit_s, timer.callback_s, flushes.in_fit_s,
                         tr - timer.fit_s, fit_u))
            print(f"{r:>5} {u:11.2f} {uc:8.2f} {tr:9.2f} {tc:8.2f} {timer.fit_s:8.2f} "
                  f"{timer.callback_s:10.3f} {flushes.in_fit_n:3d}:{flushes.in_fit_s:5.3f} "
                  f"{tr - timer.fit_s:6.2f} {tr / u:6.3f} {tc / uc:9.3f} {load1():6.2f}",
                  flush=True)

        med = [statistics.median(col) for col in zip(*rows)]
        ratio, cpu_ratio = med[2] / med[0], med[3] / med[1]
        paired = statistics.median(r[2] / r[0] for r in rows)
        print(f"{'median':>5} {med[0]:11.2f} {med[1]:8.2f} {med[2]:9.2f} {med[3]:8.2f} "
              f"{med[4]:8.2f} {med[5]:10.3f} {'':>4}{med[6]:6.3f} {med[7]:6.2f}")
        print("\ncolumns: untracked/tracked = wall time of the whole run, (cpu s) = CPU time of "
              "this process (less sensitive to other processes' load, blind to I/O waits); in "
              "fit = tracked time inside dnn.fit, callback = of which in the per-step logging "
              "hook, flushes = of which n:seconds in the periodic log_batch "
              f"(tracking.flush_seconds={cfg.tracking.flush_seconds}); rest = tracked time "
              "outside fit (check, data, MLflow run, params, data set, artifacts, plot, model)")
        print(f"\ntracked / untracked: {ratio:.3f}x wall on the medians ({paired:.3f}x median of "
              f"per-round ratios), {cpu_ratio:.3f}x CPU time -> target < {TARGET:.2f}x: "
              f"{'met' if ratio < TARGET else 'NOT met'}")
        # The pieces of tracking, each timed directly, over the untracked run: steadier
        # than a difference of two long, noisy wall times.
        added = med[5] + med[7] - (med[0] - med[8])
        print(f"tracking cost per run (medians): {med[2] - med[0]:+.2f} s wall, "
              f"{med[3] - med[1]:+.2f} s CPU; callback {med[5]:.3f} s (flushes {med[6]:.3f} s) "
              f"+ outside fit {med[7]:.2f} s - the untracked run's own time outside fit "
              f"{med[0] - med[8]:.2f} s = {added:.2f} s added, {1 + added / med[0]:.3f}x of the "
              f"untracked median (the pieces timed directly: less noisy than the ratio of "
              f"totals) -> target: {'met' if 1 + added / med[0] < TARGET else 'NOT met'}")

        if not args.no_logging_calls:
            n = 2500
            single, batch = logging_calls(cfg.tracking.uri, n)
            print(f"\nsame store, for context: {n} log_metric calls {single:.2f} s "
                  f"({single / n * 1e3:.2f} ms each); one log_batch of {n} points {batch:.3f} s "
                  f"({single / batch:.0f}x faster)")
        print(f"load average (1 min) at end: {load1():.2f}")


if __name__ == "__main__":
    main()

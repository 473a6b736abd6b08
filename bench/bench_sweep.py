"""What a sweep costs beyond its training: pruning savings, parallel speed-up, overhead.

Command (from the repository root):

    .venv/bin/python bench/bench_sweep.py                     # all three parts
    .venv/bin/python bench/bench_sweep.py --part pruning      # or parallel, overhead

Every study is a real `dnn-sweep` process (the console script of .venv) in its own
temporary working directory, with MLFLOW_TRACKING_URI unset: Optuna's journal at
<cwd>/mlruns/optuna.journal, MLflow at <cwd>/mlruns/mlflow.db. Results are read back
from both stores after the process exits. Data: planar (the course's flower, 400 points).

(1) pruning: the same seeded TPE study (seed 0, 30 trials, workers=1) over learning rate
    1e-4..10 (log: several decades, many bad values), depth 1-4 and units 2-32 per layer,
    hidden activation; 1000 full-batch iterations per trial; once with search/pruner=median
    and once with search/pruner=none. Counted: the training iterations actually run (the
    last train_cost step + 1 of each trial's MLflow run: a pruned trial stops early, a
    diverged one at its NaN) and the best validation cost of the completed trials.
    Target: pruned best within 2% of the unpruned best using <= 50% of its iterations.
(2) parallel: 24 trials, search.workers=1 then search.workers=2 (one BLAS thread each
    with 2 workers, as dnn-sweep sets). To give every trial the same work, only the
    learning rate is searched (network [64, 32] tanh, 5000 iterations: trials of ~2.5 s,
    no pruner).
    Trials per minute = 24 / wall time of the dnn-sweep process (start-up, imports, plots
    included); the rate over the trials' own span (first trial start to last trial end)
    is printed too. Target: workers=2 / workers=1 >= 1.7x. A control measures what the
    machine offers at that moment: 2 processes running plain fits at once vs 1 alone
    (before and after the sweeps); another process's load shows up there too.
(3) overhead: a workers=1 study's wall time over the sum of its trials' training time, for
    two studies: the one of (2) (planar trials of ~2.5 s, run here if (2) was not)
    and 12 trials of the course's deep network on cat/non-cat (experiment=course_deep,
    2500 iterations, learning rate 1e-3..0.02, trials of ~10 s; skipped when the course's
    files are not in $DNNSWEEP_CAT_DIR or ../shared/data/catvnoncat). Training time =
    time inside dnn's training loop, taken from each run's first and last train_cost points
    (stamped when logged): last stamp - first stamp, plus one mean iteration.
    The remainder is split into per-trial tracking (MLflow run start..end minus its
    training loop: run creation, params, data set, artifacts, plot, model), per-trial
    study work outside the MLflow run (Optuna ask/tell, config), and the process's fixed
    cost (interpreter, imports, parent run, report plots). Target: wall / the training
    loops <= 1.10x; the verdict is the course study's, the planar one shows what trials
    of a second pay. The per-step logging inside the loops is tracking's own cost, which
    bench_tracking.py measures alternately against untracked runs; here the trials'
    configs are also re-run afterwards as plain dnn.fit calls in-process, for context
    (minutes later, so the machine's drift is in that comparison too).
    Every study runs in a new folder whose MLflow store is created just before it, as a
    folder's first run would have: the schema migrations (~2 s, once per store) are
    timed apart and printed at the end.

The 1-minute load average is printed with every study: on this 2-core machine a load
above ~2 means other processes took CPU from these timings.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, cat_dir, load1
DNN_SWEEP = Path(sys.executable).with_name("dnn-sweep")
STUDY = "bench"

PRUNING_SPACE = [
    "data=planar", "search/sampler=tpe", "search.seed=0", "search.workers=1",
    "search.n_trials=30", "train.num_iterations=1000",
    "search.space.train.learning_rate.low=1e-4", "search.space.train.learning_rate.high=10.0",
    "~search.space.train.batch_size",
    "~search.space.train.optimizer", "~search.space.train.lambd",
]
PARALLEL_SPACE = [
    "data=planar", "search/sampler=tpe", "search.seed=0", "search/pruner=none",
    "search.n_trials=24", "train.num_iterations=5000", "model.hidden_units=[64,32]",
    "model.activation=tanh", "search.space.train.learning_rate.high=0.5",
    "~search.space.train.batch_size",
    "~search.space.train.optimizer", "~search.space.train.lambd",
    "~search.space.model.hidden_units", "~search.space.model.activation",
]




def course_space(folder):
    """The course's deep network on cat/non-cat, learning rate searched on a log scale:
    trials of ~10 s, closer to real use than the planar trials of ~2.5 s."""
    return [
        "experiment=course_deep", f"data.dir={folder}", "data.val_fraction=0.2",
        "search/sampler=tpe", "search.seed=0", "search/pruner=none", "search.workers=1",
        f"search.n_trials={COURSE_TRIALS}", f"train.num_iterations={COURSE_ITERATIONS}",
        "search.space.train.learning_rate.low=1e-3", "search.space.train.learning_rate.high=0.02",
        "~search.space.train.batch_size",
        "~search.space.train.optimizer", "~search.space.train.lambd",
        "~search.space.model.hidden_units", "~search.space.model.activation",
    ]


COURSE_TRIALS, COURSE_ITERATIONS = 12, 2500  # the course trains this network 2500 iterations


def verdict(ok):
    return "met" if ok else "NOT met"


class Study:
    """One finished dnn-sweep process: its wall time and what its two stores hold."""

    def __init__(self, cwd, wall, log):
        import optuna
        from mlflow import MlflowClient
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        self.cwd, self.wall, self.log = cwd, wall, log
        storage = JournalStorage(JournalFileBackend(str(cwd / "mlruns" / "optuna.journal")))
        self.study = optuna.load_study(study_name=STUDY, storage=storage)
        self.trials = self.study.get_trials()
        client = MlflowClient(tracking_uri=f"sqlite:///{cwd}/mlruns/mlflow.db")
        exp = client.get_experiment_by_name(STUDY).experiment_id
        runs = client.search_runs([exp], max_results=5000)
        self.runs = {}
        for r in runs:
            n = r.data.tags.get("optuna.trial_number")
            if n is not None and r.data.tags.get("refit") != "true":
                # A trial's MLflow history is thinned (tracking.history_points), with its
                # first and last iteration: their steps and stamps give the loop's length.
                points = client.get_metric_history(r.info.run_id, "train_cost")
                stamps = sorted(p.timestamp for p in points)
                steps = [p.step for p in points] or [0]
                self.runs[int(n)] = {"start": r.info.start_time, "end": r.info.end_time,
                                     "iterations": max(steps) + 1 if points else 0,
                                     "steps": max(steps) - min(steps), "stamps": stamps,
                                     "status": r.info.status}

    def count(self, state):
        return sum(1 for t in self.trials if t.state.name == state)

    def best(self):
        done = [t.value for t in self.trials if t.state.name == "COMPLETE"]
        return min(done) if done else float("nan")

    def iterations(self):
        return sum(r["iterations"] for r in self.runs.values())

    def loop_seconds(self):
        """Per trial: seconds inside the training loop, from the train_cost stamps (ms)."""
        out = {}
        for n, r in self.runs.items():
            s, k = r["stamps"], r["steps"]
            if k >= 1:
                span = (s[-1] - s[0]) / 1000
                out[n] = span + span / k  # + the first iteration, before its stamp
        return out

    def trial_span(self):
        starts = [t.datetime_start for t in self.trials if t.datetime_start]
        ends = [t.datetime_complete for t in self.trials if t.datetime_complete]
        return (max(ends) - min(starts)).total_seconds()


def new_store(cwd):
    """Create the MLflow store of cwd (its schema migrations) before the study is timed:
    a store is created once, by the first run or study in a folder, not by every study.
    Returns the seconds the creation took beyond importing mlflow (a one-time cost)."""
    def seconds(code):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        return time.perf_counter() - t

    (cwd / "mlruns").mkdir()
    create = seconds("from mlflow import MlflowClient; MlflowClient(tracking_uri="
                     f"'sqlite:///{cwd}/mlruns/mlflow.db').search_experiments()")
    return create - seconds("from mlflow import MlflowClient")


STORE_SECONDS = []


def run_sweep(overrides, label, keep=None):
    """Run dnn-sweep in a fresh temporary directory (its MLflow store already created);
    returns a Study."""
    cwd = Path(tempfile.mkdtemp(prefix=f"bench-sweep-{label}-"))
    STORE_SECONDS.append(new_store(cwd))
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    cmd = [str(DNN_SWEEP), f"search.study_name={STUDY}", *overrides]
    print(f"  [{label}] dnn-sweep {' '.join(cmd[1:])}", flush=True)
    load_before = load1()
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        print(log[-3000:])
        raise SystemExit(f"dnn-sweep failed ({label}, exit {proc.returncode})")
    study = Study(cwd, wall, log)
    print(f"  [{label}] {wall:.1f} s wall; {len(study.trials)} trials: complete "
          f"{study.count('COMPLETE')}, pruned {study.count('PRUNED')}, failed "
          f"{study.count('FAIL')}; load average (1 min) {load_before:.2f} -> {load1():.2f}",
          flush=True)
    if keep is None:
        keep = []
    keep.append(cwd)
    return study


def part_pruning(cleanup):
    print("(1) pruning: 30 seeded TPE trials on planar, lr 1e-4..10, 1000 iterations each")
    pruned = run_sweep([*PRUNING_SPACE, "search/pruner=median"], "median", cleanup)
    full = run_sweep([*PRUNING_SPACE, "search/pruner=none"], "none", cleanup)
    it_p, it_f = pruned.iterations(), full.iterations()
    best_p, best_f = pruned.best(), full.best()
    print(f"  {'pruner':8} {'iterations run':>15} {'best val_cost':>14} {'wall s':>8} "
          f"{'training-loop s':>16}")
    for name, st, it, best in (("median", pruned, it_p, best_p), ("none", full, it_f, best_f)):
        print(f"  {name:8} {it:15d} {best:14.5f} {st.wall:8.1f} "
              f"{sum(st.loop_seconds().values()):16.1f}")
    frac, gap = it_p / it_f, best_p / best_f - 1
    ok = frac <= 0.5 and gap <= 0.02
    print(f"  median/none: {frac:.1%} of the iterations, best val_cost {gap:+.1%} "
          f"-> target (best within 2% using <= 50% of the iterations): {verdict(ok)}")
    out_p = pruned.wall - sum(pruned.loop_seconds().values())
    out_f = full.wall - sum(full.loop_seconds().values())
    print(f"  wall time median/none: {pruned.wall / full.wall:.0%}; outside the training loops "
          f"{out_p:.1f} s vs {out_f:.1f} s (per-trial and fixed costs, see (3), which pruning "
          "does not cut)\n")
    return ok


CONTROL = """
import sys, time
import numpy as np
from threadpoolctl import threadpool_limits
from dnn import fit
from dnn.data import load_dataset
threadpool_limits(1)
d = load_dataset("planar")
t = time.perf_counter()
for lr in (0.01, 0.05, 0.1, 0.2):
    fit(d.X_train, d.Y_train, hidden_units=[64, 32], activation="tanh", init="xavier",
        learning_rate=lr, num_iterations=5000, validation=(d.X_val, d.Y_val), eval_every=50)
print(time.perf_counter() - t)
"""


def machine_speedup():
    """The speed-up the machine offers right now: 2 processes doing the same fits (those of
    a trial, no tracking) at once vs 1 alone. Other processes' load lowers it below 2."""
    cmd = [sys.executable, "-c", CONTROL]
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def together(n):
        t = time.perf_counter()
        procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
                 for _ in range(n)]
        for p in procs:
            p.communicate()
        return time.perf_counter() - t

    one = together(1)
    two = together(2)
    return 2 * one / two, one, two


def part_parallel(cleanup):
    print("(2) parallel: 24 trials (learning rate only; [64, 32] tanh, 5000 iterations)")
    cap, t1, t2 = machine_speedup()
    print(f"  control: 4 plain fits of the trial network (1 BLAS thread, no tracking) in 1 "
          f"process {t1:.1f} s, in each of 2 processes at once {t2:.1f} s -> the machine "
          f"offers {cap:.2f}x now (load average (1 min) {load1():.2f})")
    one = run_sweep([*PARALLEL_SPACE, "search.workers=1"], "workers=1", cleanup)
    two = run_sweep([*PARALLEL_SPACE, "search.workers=2"], "workers=2", cleanup)
    print(f"  {'workers':8} {'wall s':>8} {'trials/min':>11} {'span s':>8} "
          f"{'trials/min in span':>19} {'mean loop s':>12}")
    rates = {}
    for name, s in (("1", one), ("2", two)):
        n = len(s.trials)
        rates[name] = (60 * n / s.wall, 60 * n / s.trial_span())
        loops = s.loop_seconds().values()
        print(f"  {name:8} {s.wall:8.1f} {rates[name][0]:11.1f} {s.trial_span():8.1f} "
              f"{rates[name][1]:19.1f} {statistics.mean(loops):12.2f}")
    speed, speed_span = rates["2"][0] / rates["1"][0], rates["2"][1] / rates["1"][1]
    print(f"  speed-up workers=2/workers=1: {speed:.2f}x on process wall time "
          f"({speed_span:.2f}x over the trials' span) -> target >= 1.7x: {verdict(speed >= 1.7)}")
    cap2, _, _ = machine_speedup()
    print(f"  control again after the sweeps: the machine offers {cap2:.2f}x; sweep speed-up "
          f"over the machine's (mean of both controls): {speed / ((cap + cap2) / 2):.0%}\n")
    return speed >= 1.7, one


def refit_seconds(st, overrides):
    """Per trial: seconds of a plain dnn.fit (no tracking, no study) of the trial's config,
    for the iterations the trial ran, re-run in this process."""
    import hydra
    import numpy as np

    sys.path.insert(0, str(REPO))
    from dnn import DivergenceError, fit
    from search.config import conf_dir, fit_kwargs
    from search.run.train import load_run_data
    from search.study.space import apply_values, dimensions, values_from_params
    from search.study.study import base_run_config

    np.seterr(all="ignore")
    with hydra.initialize_config_dir(conf_dir(), version_base="1.3"):
        cfg = hydra.compose("sweep", overrides=[f"search.study_name={STUDY}", *overrides])
    dims, base = dimensions(cfg.search.space), base_run_config(cfg)
    data, _, evaluation = load_run_data(base)
    out = {}
    for t in st.trials:
        if t.number not in st.runs:
            continue
        kwargs = fit_kwargs(apply_values(base, values_from_params(t.params, dims)))
        kwargs["num_iterations"] = max(1, st.runs[t.number]["iterations"])
        eval_every = kwargs.pop("eval_every")
        start = time.perf_counter()
        try:
            fit(data.X_train, data.Y_train, **kwargs, validation=evaluation,
                eval_every=eval_every)
        except DivergenceError:
            pass
        out[t.number] = time.perf_counter() - start
    return out


def overhead(study, overrides, label):
    """Print where the study's wall time went; True when wall / training loops <= 1.10."""
    loops = study.loop_seconds()
    train = sum(loops.values())
    pure = sum(refit_seconds(study, overrides).values())
    runs = sum((r["end"] - r["start"]) / 1000 for r in study.runs.values())
    trials = sum((t.datetime_complete - t.datetime_start).total_seconds()
                 for t in study.trials if t.datetime_complete and t.datetime_start)
    n, ratio = len(loops), study.wall / train
    print(f"  {label}: {len(study.trials)} trials; dnn-sweep wall time {study.wall:.1f} s")
    print(f"    sum of training-loop time      {train:8.1f} s  (train_cost stamps; includes "
          "the validation evaluations and the per-step logging callback)")
    print(f"    + per-trial tracking           {runs - train:8.1f} s  ({(runs - train) / n:.2f} "
          "s/trial: MLflow run start..end outside the loop: run, params, data set, "
          "final metrics, artifacts, plot, model, status)")
    print(f"    + per-trial study work         {trials - runs:8.1f} s  ({(trials - runs) / n:.2f} "
          "s/trial: Optuna trial start..end outside the MLflow run: ask, config, tell, tags)")
    print(f"    + fixed cost of the process    {study.wall - trials:8.1f} s  (interpreter, "
          "imports, study and parent run, between-trial bookkeeping, report plots, CSV)")
    print(f"    wall / training loops: {ratio:.2f}x -> target <= 1.10x: {verdict(ratio <= 1.10)}")
    print(f"    for context, the same configs re-run afterwards as plain dnn.fit in this process "
          f"(no tracking, no study): {pure:.1f} s, so wall / plain fit {study.wall / pure:.2f}x; "
          f"the loops took {train - pure:+.1f} s more (per-step logging, trial.report; and any "
          "drift of the machine's speed between the two: see bench_tracking.py for the "
          "per-step logging measured alternately)")
    return ratio <= 1.10


def part_overhead(one, cleanup):
    print("(3) overhead: wall time of a workers=1 study over its trials' training time")
    if one is None:
        one = run_sweep([*PARALLEL_SPACE, "search.workers=1"], "workers=1", cleanup)
    overhead(one, [*PARALLEL_SPACE, "search.workers=1"], "planar, ~2.5 s trials (the study of (2))")
    folder = cat_dir()
    if folder is None:
        print("  course data not found (set DNNSWEEP_CAT_DIR): the course study is skipped\n")
        return None
    space = course_space(folder)
    print(f"  course: {COURSE_TRIALS} trials of the course's deep network on cat/non-cat "
          f"({COURSE_ITERATIONS} iterations, learning rate only)")
    course = run_sweep(space, "course", cleanup)
    ok = overhead(course, space, "course, ~10 s trials")
    print()
    return ok


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=("all", "pruning", "parallel", "overhead"), default="all")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary working directories (their mlruns/) and print them")
    args = p.parse_args(argv)
    if not DNN_SWEEP.is_file():
        raise SystemExit(f"{DNN_SWEEP} not found: run with the venv's python (.venv/bin/python)")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow  # noqa: F401 - the reader's import, before any timing
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"cores: {os.cpu_count()}; load average (1 min) at start: {load1():.2f}\n")
    dirs, results, one = [], {}, None
    try:
        if args.part in ("all", "pruning"):
            results["pruning"] = part_pruning(dirs)
        if args.part in ("all", "parallel"):
            results["parallel"], one = part_parallel(dirs)
        if args.part in ("all", "overhead"):
            ok = part_overhead(one, dirs)
            if ok is not None:
                results["overhead (course study)"] = ok
    finally:
        if args.keep:
            print("kept: " + " ".join(map(str, dirs)))
        else:
            for d in dirs:
                shutil.rmtree(d, ignore_errors=True)
    if STORE_SECONDS:
        print(f"not in the walls above: creating each study's new MLflow store took "
              f"{statistics.median(STORE_SECONDS):.1f} s (median) beyond importing mlflow, "
              "once per folder")
    print("targets: " + ", ".join(f"{k} {verdict(v)}" for k, v in results.items())
          + f"; load average (1 min) at end: {load1():.2f}")


if __name__ == "__main__":
    main()

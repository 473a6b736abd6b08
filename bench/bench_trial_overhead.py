"""What a trial costs outside its training: dnn-sweep's worker against the script a user
would otherwise write (Optuna + optuna-integration's MLflowCallback) and bare Optuna,
side by side in one process, around the same dnn.fit call.

Command (from the repository root):

    .venv/bin/python bench/bench_trial_overhead.py     # --trials 20 --rounds 3 --long 5

The three, each on the planar data (400 points), the default [8, 4] network, full batch,
only the learning rate sampled (random sampler, no pruner, no early stopping), one worker,
one BLAS thread:

  bare      optuna.create_study() (in memory); the objective: dnn.fit, then the validation
            cost (dnn.evaluate) -- the training every kind shares.
  callback  the same study and objective with MLflowCallback(tracking_uri=...,
            metric_name="val_cost") (a run per trial: params, the value, tags); when
            optuna-integration is missing, the same calls written with plain mlflow.
  dnn-sweep search.sweep.worker.worker_loop, as a sweep's worker runs: the journal storage,
            the ask lock, the trial's config and its check, the run with its params, data
            set, curves, metrics, baselines, artifacts and end tags.

(1) per-trial overhead on tiny trials (10 iterations): each kind runs --trials trials per
    round, the kinds in rotating order, --rounds rounds; per trial = wall time / trials;
    overhead = per trial - the bare kind's time inside dnn.fit per trial (its training).
    Medians over the rounds. Target: dnn-sweep's overhead <= the callback script's.
(2) requests per trial to a real `mlflow server` (127.0.0.1, SQLite backend, artifacts
    served), counted from its access log over --trials trials after a first one (which
    makes the experiment). Target: <= 10.
(3) bytes of store per trial for --long trials of 2,500 iterations on a local SQLite store:
    growth of mlflow.db plus the artifacts folder, per trial. Target: <= 100 KB.

The 1-minute load average is printed with every figure: on this 2-core machine a load
above ~2 means other processes took CPU from these timings.
"""
import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from common import REPO, load1, mlflow_server

sys.path.insert(0, str(REPO))

import optuna  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from dnn import evaluate, fit  # noqa: E402
from search.config import conf_dir, fit_kwargs, run_config  # noqa: E402
from search.run.train import load_run_data  # noqa: E402
from search.storage.locks import ask_lock  # noqa: E402
from search.study.study import open_study, quiet_optuna  # noqa: E402
from search.sweep.worker import worker_loop  # noqa: E402
from search.tracking.client import client_for, quiet_libraries  # noqa: E402
from search.tracking.runs import ensure_parent_run  # noqa: E402

DIMS = {"train.learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True}}
KINDS = ("bare", "callback", "dnn-sweep")
MAX_REQUESTS, MAX_KB = 10, 100


def sweep_cfg(folder, uri, iterations, n_trials):
    overrides = [f"search.storage={folder}/optuna.journal", f"tracking.uri={uri}",
                 f"tracking.artifact_root={folder}/artifacts", "search/sampler=random",
                 "search/pruner=none", "search.workers=1", f"search.n_trials={n_trials}",
                 f"train.num_iterations={iterations}", "train.patience=null",
                 "model.hidden_units=[8,4]", "search.study_name=bench"]
    with initialize_config_dir(conf_dir(), version_base="1.3"):
        return compose("sweep", overrides=overrides)


class Objective:
    """dnn.fit on the study's data with the sampled learning rate; the validation cost.
    Times its fit calls (the training every kind shares)."""

    def __init__(self, cfg):
        self.data, _, self.evaluation = load_run_data(cfg)
        self.kwargs = fit_kwargs(run_config(cfg))
        self.fit_seconds = 0.0

    def __call__(self, trial):
        lr = trial.suggest_float("train.learning_rate", 1e-3, 1.0, log=True)
        t = time.perf_counter()
        parameters, _ = fit(self.data.X_train, self.data.Y_train,
                            **{**self.kwargs, "learning_rate": lr}, validation=self.evaluation)
        self.fit_seconds += time.perf_counter() - t
        scores = evaluate(parameters, *self.evaluation, self.kwargs["activation"], "val_")
        return scores["val_cost"]


def mlflow_callback(uri):
    """optuna-integration's MLflowCallback, else the same calls in plain mlflow."""
    try:
        from optuna_integration import MLflowCallback
        return MLflowCallback(tracking_uri=uri, metric_name="val_cost")
    except ImportError:
        import mlflow

        def callback(study, trial):
            mlflow.set_tracking_uri(uri)
            mlflow.set_experiment(study.study_name)
            with mlflow.start_run(run_name=str(trial.number)):
                mlflow.log_params(trial.params)
                mlflow.log_metric("val_cost", trial.value)
                mlflow.set_tags({"number": str(trial.number), "state": trial.state.name})
        return callback


def run_kind(kind, folder, uri, iterations, n_trials):
    """Wall seconds of n_trials trials of one kind in folder (a fresh study and store),
    and the seconds inside dnn.fit (bare and callback)."""
    cfg = sweep_cfg(folder, uri, iterations, n_trials)
    if kind == "dnn-sweep":
        client_for(cfg.tracking)
        study = open_study(cfg, DIMS)
        ensure_parent_run(cfg.tracking, "bench", study, {}, ask_lock(cfg.search.storage))
        t = time.perf_counter()
        worker_loop(cfg, DIMS, [])
        return time.perf_counter() - t, None
    objective = Objective(cfg)
    if kind == "callback":  # the store made before timing, as for dnn-sweep
        from mlflow import MlflowClient
        MlflowClient(tracking_uri=uri).search_experiments()
    study = optuna.create_study(study_name="bench",
                                sampler=optuna.samplers.RandomSampler(seed=0))
    callbacks = [mlflow_callback(uri)] if kind == "callback" else []
    t = time.perf_counter()
    study.optimize(objective, n_trials=n_trials, callbacks=callbacks)
    return time.perf_counter() - t, objective.fit_seconds


def warm_up(tmp):
    """Imports, a store's schema, matplotlib: paid once per process, not per trial."""
    for kind in KINDS:
        folder = Path(tmp) / f"warm-{kind}"
        run_kind(kind, folder, f"sqlite:///{folder}/mlflow.db", 10, 2)


def overhead(tmp, trials, rounds):
    print(f"(1) per-trial time on tiny trials (10 iterations), {trials} trials a kind a round")
    print(f"{'round':>5} " + " ".join(f"{k + ' s':>12}" for k in KINDS) + f" {'fit s':>8} {'load1':>6}")
    per = {k: [] for k in KINDS}
    fits = []
    for r in range(rounds):
        order = KINDS[r % 3:] + KINDS[:r % 3]  # rotating: a drifting load hits each kind alike
        row = {}
        for kind in order:
            folder = Path(tmp) / f"round{r}-{kind}"
            wall, fit_s = run_kind(kind, folder, f"sqlite:///{folder}/mlflow.db", 10, trials)
            row[kind] = wall / trials
            if kind == "bare":
                fits.append(fit_s / trials)
        for kind in KINDS:
            per[kind].append(row[kind])
        print(f"{r + 1:>5} " + " ".join(f"{row[k]:12.4f}" for k in KINDS)
              + f" {fits[-1]:8.4f} {load1():6.2f}", flush=True)
    fit_s = statistics.median(fits)
    med = {k: statistics.median(v) for k, v in per.items()}
    print(f"{'median':>5} " + " ".join(f"{med[k]:12.4f}" for k in KINDS) + f" {fit_s:8.4f}")
    over = {k: med[k] - fit_s for k in KINDS}
    print("overhead per trial (median - the training inside dnn.fit): "
          + ", ".join(f"{k} {over[k]:.4f} s" for k in KINDS))
    ok = over["dnn-sweep"] <= over["callback"]
    print(f"dnn-sweep / callback overhead: {over['dnn-sweep'] / over['callback']:.2f}x "
          f"-> target <= 1: {'met' if ok else 'NOT met'}\n")


def requests(tmp, trials):
    print(f"(2) requests per trial to an mlflow server, {trials} trials after a first one")
    counts = {}
    for kind in ("callback", "dnn-sweep"):
        folder = Path(tmp) / f"server-{kind}"
        with mlflow_server(folder) as (uri, log):
            run_kind(kind, folder / "warm", uri, 10, 1)
            before = log.read_text().count("HTTP/1.1")
            run_kind(kind, folder / "study", uri, 10, trials)
            time.sleep(0.5)  # the access log's last lines
            counts[kind] = (log.read_text().count("HTTP/1.1") - before) / trials
    print(", ".join(f"{k} {v:.1f}" for k, v in counts.items())
          + f" -> target dnn-sweep <= {MAX_REQUESTS}: "
          + ("met" if counts["dnn-sweep"] <= MAX_REQUESTS else "NOT met")
          + f" (load1 {load1():.2f})\n")


def store_bytes(tmp, long_trials):
    print(f"(3) store per trial, {long_trials} trials of 2,500 iterations (local SQLite)")
    sizes = {}
    for kind in ("callback", "dnn-sweep"):
        folder = Path(tmp) / f"store-{kind}"
        uri = f"sqlite:///{folder}/mlflow.db"
        run_kind(kind, folder / "warm", uri, 10, 1)  # the store's schema, the experiment
        before = mlflow_bytes(folder)
        run_kind(kind, folder, uri, 2500, long_trials + 1)  # the study's parent run too
        sizes[kind] = (mlflow_bytes(folder) - before) / (long_trials + 1) / 1024
    print(", ".join(f"{k} {v:.1f} KB" for k, v in sizes.items())
          + f" -> target dnn-sweep <= {MAX_KB} KB: "
          + ("met" if sizes["dnn-sweep"] <= MAX_KB else "NOT met")
          + f" (load1 {load1():.2f})")


def mlflow_bytes(folder):
    """The MLflow store's bytes: mlflow.db and the artifacts folder."""
    files = [Path(folder) / "mlflow.db", *(Path(folder) / "artifacts").rglob("*")]
    return sum(f.stat().st_size for f in files if f.is_file())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=20, help="tiny trials a kind a round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--long", type=int, default=5, help="2,500-iteration trials for (3)")
    args = p.parse_args(argv)
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"):
        os.environ.pop(var, None)
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    np.seterr(all="ignore")
    warnings.filterwarnings("ignore", category=FutureWarning)  # MLflowCallback's deprecation
    quiet_libraries()
    quiet_optuna()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    kind = "optuna-integration" if importlib.util.find_spec("optuna_integration") \
        else "plain mlflow"
    print(f"cores: {os.cpu_count()}; load average (1 min) at start: {load1():.2f}; "
          f"the callback: {kind}'s")
    with tempfile.TemporaryDirectory(prefix="bench-trial-") as tmp:
        warm_up(tmp)
        overhead(tmp, args.trials, args.rounds)
        requests(tmp, args.trials)
        store_bytes(tmp, args.long)
    print(f"load average (1 min) at end: {load1():.2f}")


if __name__ == "__main__":
    main()

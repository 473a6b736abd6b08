"""Coarse to fine against one wide study of the same total, side by side in one run.

Command (from the repository root):

    python bench/bench_narrow.py                 # --trials 60 --data planar --seed 0
    python bench/bench_narrow.py --figure docs/cost_curves.png   # keep the wide study's curves

Both arms are real `dnn-sweep` processes in one temporary working directory (local
journal and MLflow store), on built-in data, with the default space, sampler (TPE) and
pruner (median), search.workers=1 and the same sampler seed:

  (a) wide:   one study of TRIALS trials;
  (b) narrow: a study of TRIALS/2 trials, then `search.narrow_from=` it with TRIALS/2
              more (its warm-start trials are counted as the first study's, not again).

For each arm: the best validation cost reached, the trial (in the order trials were
trained, 1-based) at which it first got within 1% of its own final best, and the wall time.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load1  # noqa: E402

BIN = Path(sys.executable).parent


def sweep(cwd, *args):
    exe = str(BIN / "dnn-sweep") if (BIN / "dnn-sweep").exists() else shutil.which("dnn-sweep")
    env = {**os.environ}
    env.pop("MLFLOW_TRACKING_URI", None)
    env["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    start = time.perf_counter()
    proc = subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"dnn-sweep {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return time.perf_counter() - start, proc.stdout


def trained_values(cwd, name):
    """Values of the complete trials trained by study name, in the order they finished
    (None for a pruned or failed trial: it reached no final value)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    storage = JournalStorage(JournalFileBackend(str(Path(cwd) / "mlruns" / "optuna.journal")))
    study = optuna.load_study(study_name=name, storage=storage)
    trials = [t for t in study.trials if "warm_start_from" not in t.user_attrs
              and t.state.is_finished()]
    trials.sort(key=lambda t: t.datetime_complete)
    return [t.value if t.state == optuna.trial.TrialState.COMPLETE else None for t in trials]


def copy_figure(cwd, name, target):
    """The study's plots/cost_curves.png (from its parent run) copied to target."""
    from mlflow import MlflowClient

    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    storage = JournalStorage(JournalFileBackend(str(Path(cwd) / "mlruns" / "optuna.journal")))
    parent = optuna.load_study(study_name=name, storage=storage).user_attrs["mlflow_parent_run_id"]
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    client = MlflowClient(f"sqlite:///{cwd}/mlruns/mlflow.db")
    shutil.copy(client.download_artifacts(parent, "plots/cost_curves.png", cwd), target)


def within(values, tolerance=0.01):
    """(final best, 1-based trial at which the running best got within tolerance of it)."""
    best = min(v for v in values if v is not None)
    running = float("inf")
    for i, v in enumerate(values, 1):
        if v is not None:
            running = min(running, v)
        if running <= best * (1 + tolerance):
            return best, i
    return best, len(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--data", default="planar")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", help="copy the wide study's cost-curve figure here")
    args = parser.parse_args()
    half = args.trials // 2
    common = [f"data={args.data}", "search.workers=1", f"search.seed={args.seed}"]
    print(f"load before: {load1():.2f}")
    with tempfile.TemporaryDirectory() as cwd:
        t_wide, _ = sweep(cwd, *common, f"search.n_trials={args.trials}",
                          "search.study_name=wide")
        t_coarse, _ = sweep(cwd, *common, f"search.n_trials={half}", "search.study_name=coarse")
        t_fine, out = sweep(cwd, *common, f"search.n_trials={args.trials - half}",
                            "search.narrow_from=coarse", "search.study_name=coarse-fine")
        space = out.split("warm start:")[0].split("\nstudy 'coarse-fine': opening")[0]
        wide = trained_values(cwd, "wide")
        staged = trained_values(cwd, "coarse") + trained_values(cwd, "coarse-fine")
        warm = out.split("warm start: ")[1].split(" ")[0] if "warm start: " in out else "0"
        if args.figure:
            copy_figure(cwd, "wide", args.figure)
    print(space.rstrip())
    print(f"\n{args.data}, {args.trials} trials each, seed {args.seed}, workers 1")
    print(f"{'arm':32} {'best val_cost':>13} {'within 1% at':>13} {'wall s':>8}")
    for name, values, wall in (("(a) wide", wide, t_wide),
                               (f"(b) {half} wide + {args.trials - half} narrowed", staged,
                                t_coarse + t_fine)):
        best, at = within(values)
        print(f"{name:32} {best:13.5f} {f'trial {at}':>13} {wall:8.1f}")
    print(f"narrowed study warm-started with {warm} trial(s) of the coarse one")
    print(f"load after: {load1():.2f}")


if __name__ == "__main__":
    main()

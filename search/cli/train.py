"""dnn-train: one Hydra-composed training run, tracked in MLflow; with --multirun, one run
per job, each labelled with its overrides, and a table of them all at the end. SIGTERM and
Ctrl-C close the run KILLED (search.cli.signals)."""
import contextlib
import io
import re
import sys
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from dnn import DivergenceError
from dnn.data import DataError
from search.cli.common import EXIT_FAILED, fail, hydra_task, run_hydra_app
from search.cli.signals import Stopped, exit_stopped, received, stop_at_signal, stop_on_signals
from search.config import ConfigError, check_run_config
from search.run.train import train_run
from search.secrets import mask
from search.tracking.client import browse_hint, tracking_uri
from search.tracking.model import CHAMPION, serve_command

JOBS = []          # (label, run id, metrics) of each job of this process's multirun
SWEEP_DIRS = set()  # Hydra's multirun folders, removed at the end when left empty


@hydra_task
def train_task(cfg):

    try:
        check_run_config(cfg)
    except ConfigError as e:
        fail(f"invalid config: {e}")
    cfg.tracking.uri = tracking_uri(cfg.tracking)  # the run records the store it went to
    hydra = HydraConfig.get()
    overrides = list(hydra.overrides.task)
    multirun = hydra.mode == RunMode.MULTIRUN
    if multirun:
        SWEEP_DIRS.add(hydra.sweep.dir)
        mask_file(Path(hydra.sweep.dir) / "multirun.yaml")  # Hydra saved it unmasked
        label = mask(" ".join(overrides)) or "(defaults)"
        print(f"\n[job {hydra.job.num}] {label}", flush=True)
    if received:
        exit_stopped()
    run_ids = []
    try:
        result = train_run(cfg, overrides, progress=True, on_step=stop_at_signal,
                           on_start=run_ids.append)
    except Stopped:
        exit_stopped(run_ids[0] if run_ids else None)
    except (DataError, ConfigError, ValueError) as e:
        fail(str(e))
    except DivergenceError as e:
        fail(str(e), EXIT_FAILED)
    print_summary(cfg, result)
    if received:  # came after the last iteration: the run is complete and FINISHED
        exit_stopped(result.run_id, finished=True)
    if multirun:
        JOBS.append((f"{hydra.job.num}", label, result.run_id, dict(result.metrics)))
    return result.metrics.get("val_cost", result.metrics.get("test_cost"))


def print_summary(cfg, result):

    metrics = "  ".join(f"{k}={v:.4f}" for k, v in sorted(result.metrics.items()))
    print(f"final train_cost={result.costs[-1]:.6f}  {metrics}")
    print(f"MLflow run {result.run_id} in {mask(tracking_uri(cfg.tracking))}")
    print(f"open it:   {browse_hint(cfg.tracking, result.run_id)}")
    print(f"reproduce: dnn-reproduce {result.run_id}")
    if cfg.tracking.register and cfg.tracking.log_model and not cfg.cv.folds:
        model_uri = f"models:/{cfg.tracking.register}@{CHAMPION}"
        print(f"registered model: {model_uri}")
        print(f"serve it:  {serve_command(tracking_uri(cfg.tracking), model_uri)}")


def jobs_table(jobs):
    """Lines: one row per job with its overrides, its metrics and its MLflow run."""
    keys = sorted({k for *_, metrics in jobs for k in metrics})
    width = max(len(label) for _, label, _, _ in jobs)
    lines = [f"{len(jobs)} job(s):",
             f"  {'job':>3}  {'overrides':{width}}  {'  '.join(f'{k:>14}' for k in keys)}  MLflow run"]
    for num, label, run_id, metrics in jobs:
        values = "  ".join(f"{metrics.get(k, float('nan')):14.5g}" for k in keys)
        lines.append(f"  {num:>3}  {label:{width}}  {values}  {run_id}")
    return lines


def mask_file(path):
    """The file at path with its credentials masked (rewritten only if it held any)."""
    text = path.read_text() if path.is_file() else ""
    if mask(text) != text:
        path.write_text(mask(text))


def remove_empty_dirs(root):
    """Hydra makes a folder per job even when it writes nothing there: remove the empty ones."""
    root, cwd = Path(root).resolve(), Path.cwd().resolve()
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for path in (root, *root.parents):  # mlruns/hydra/<time>, mlruns/hydra: never above cwd
        if cwd not in path.parents or any(path.iterdir()):
            break
        path.rmdir()


def show_help():
    """Hydra's help without the config groups of dnn-sweep (search*), which dnn-train refuses."""
    text = io.StringIO()
    try:
        with contextlib.redirect_stdout(text):
            run_hydra_app(train_task, "config", "dnn-train")
    finally:
        print("\n".join(line for line in text.getvalue().splitlines()
                        if not re.match(r"search(/\w+)?: ", line)))


def main():
    if {"--help", "-h"} & set(sys.argv[1:]):
        return show_help()
    stop_on_signals()
    try:
        run_hydra_app(train_task, "config", "dnn-train", check=check_run_config)
    finally:
        if JOBS:
            print()
            print("\n".join(jobs_table(JOBS)))
        for folder in SWEEP_DIRS:
            remove_empty_dirs(folder)


if __name__ == "__main__":
    main()

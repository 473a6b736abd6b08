"""Test helpers: running the console scripts and reading a temporary MLflow store."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import Metric

BIN = Path(sys.executable).parent


def command(name):
    """The installed console script, e.g. dnn-train (beside this Python)."""
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name)


def run_cli(name, *args, cwd, env=None, timeout=300, check=None):
    """Run a console script in cwd; returns CompletedProcess with text output.
    env entries update the environment; an entry whose value is None removes the variable."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    for key in [k for k, v in full_env.items() if v is None]:
        del full_env[key]
    proc = subprocess.run([command(name), *map(str, args)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if check is not None and proc.returncode != check:
        raise AssertionError(f"{name} {' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def run_id_from(stdout):
    for line in stdout.splitlines():
        if line.startswith("MLflow run "):
            return line.split()[2]
    raise AssertionError(f"no run id in output:\n{stdout}")


def client_of(cwd):
    return MlflowClient(f"sqlite:///{Path(cwd).resolve()}/mlruns/mlflow.db")


def run_ids(cwd):
    if not (Path(cwd) / "mlruns" / "mlflow.db").exists():
        return set()
    client = client_of(cwd)
    return {r.info.run_id for e in client.search_experiments(view_type=3)
            for r in client.search_runs([e.experiment_id], run_view_type=3)}


def stored_run(client, experiment_id, text):
    """A run whose config.yaml artifact is text."""
    import tempfile

    run = client.create_run(experiment_id).info.run_id
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.yaml").write_text(text)
        client.log_artifact(run, str(Path(tmp) / "config.yaml"))
    client.set_terminated(run)
    return run


def log_curve(client, exp, costs, vals):
    run = client.create_run(exp)
    rid = run.info.run_id
    points = [Metric("train_cost", c, 0, i) for i, c in enumerate(costs)]
    points += [Metric("val_cost", v, 0, 10 * i) for i, v in enumerate(vals)]
    client.log_batch(rid, metrics=points)
    client.set_terminated(rid)
    return rid

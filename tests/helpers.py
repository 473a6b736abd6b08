"""Test helpers: running the console scripts and reading a temporary MLflow store."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

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

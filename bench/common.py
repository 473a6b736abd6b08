"""What the benchmarks share: the machine's load, where the course's data lives, an
`mlflow server` of their own."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load1():
    """The 1-minute load average: above ~2 on 2 cores, other work took CPU from a timing."""
    return os.getloadavg()[0]


def cat_dir():
    """The course's cat/non-cat folder ($DNNSWEEP_CAT_DIR, else ../shared/data/catvnoncat),
    or None when its two HDF5 files are not there."""
    for c in (os.environ.get("DNNSWEEP_CAT_DIR"), REPO.parent / "shared/data/catvnoncat"):
        if c and (Path(c) / "train_catvnoncat.h5").is_file() \
                and (Path(c) / "test_catvnoncat.h5").is_file():
            return Path(c)
    return None


@contextlib.contextmanager
def mlflow_server(folder, timeout=180):
    """`mlflow server` on 127.0.0.1 (a free port, one worker, a SQLite backend and served
    artifacts in folder); yields (its URI, its log file, which holds one access line per
    request). Stopped with its process group afterwards."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = folder / "mlflow-server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port",
             str(port), "--workers", "1", "--backend-store-uri", f"sqlite:///{folder}/server.db",
             "--artifacts-destination", str(folder / "served")],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=5):
                    break
            except OSError:
                if time.monotonic() > end:
                    raise RuntimeError(f"mlflow server not up after {timeout} s") from None
                time.sleep(0.5)
        yield uri, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)

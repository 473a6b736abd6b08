"""dnn-ui: the MLflow UI on the project's store, bound to 127.0.0.1 unless asked otherwise.

One server process tree (`mlflow server` and its one uvicorn worker, in a process group of
their own), no job runner unless asked, MLflow's notices kept out of the terminal; SIGTERM
or Ctrl-C stops the whole tree.
"""
import argparse
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from search.cli.common import EXIT_FAILED, fail
from search.config import ConfigError, default_tracking
from search.secrets import mask
from search.storage.urls import sqlite_path
from search.tracking.client import runs_url

READY_TIMEOUT = 120.0  # seconds for the server to answer (a new store migrates first)
STOP_TIMEOUT = 10.0    # seconds for the tree to end on SIGTERM before SIGKILL
SHOWN_EXPERIMENTS = 5


class Stop(Exception):
    """SIGTERM or SIGINT reached dnn-ui."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="dnn-ui", description="Open the MLflow UI on dnnsweep's store.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    p.add_argument("--tracking-uri", help="store (default: $MLFLOW_TRACKING_URI, else "
                                          "sqlite:///mlruns/mlflow.db)")
    p.add_argument("--experiment", help="print the address of this experiment's runs "
                                        "(default: the most recently used ones)")
    p.add_argument("--workers", type=int, default=1,
                   help="uvicorn worker processes (default 1: enough for one person)")
    p.add_argument("--jobs", action="store_true",
                   help="start MLflow's job runner too (GenAI evaluation jobs; off by default)")
    return p.parse_args(argv)


def server_command(args, uri):
    """The mlflow server command and environment. The store URI travels in the environment
    (MLFLOW_BACKEND_STORE_URI), never in the arguments, so no password shows in `ps`."""

    env = dict(os.environ, MLFLOW_BACKEND_STORE_URI=uri,
               MLFLOW_SERVER_ENABLE_JOB_EXECUTION="true" if args.jobs else "false",
               PYTHONWARNINGS="ignore")  # the server's deprecation warnings are not ours
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", args.host, "--port",
           str(args.port), "--workers", str(args.workers),
           "--uvicorn-opts", "--log-level warning"]  # no line per request
    path = sqlite_path(uri)
    if path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return cmd, env, mask(uri)


def check_bindable(host, port):
    """Raises OSError when host:port cannot be served (in use, not an address of this
    machine, unknown name), before a server is started for nothing."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        s.bind((host, port))


def local_address(host, port):
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"


class ServerOutput:
    """Reads the server's output: error lines pass to stderr, the rest is kept (the last
    lines) to explain a server that exits."""

    def __init__(self, stream):
        self.tail = collections.deque(maxlen=30)
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in stream:
            line = line.rstrip()
            if line:
                self.tail.append(line)
            if " ERROR" in line or line.startswith("ERROR"):
                print(line, file=sys.stderr, flush=True)

    def reason(self):
        lines = [ln for ln in self.tail if not ln.startswith((" ", "Traceback", "During"))]
        return lines[-1] if lines else "no output"


def wait_ready(proc, base, output):
    """Seconds until GET /health answers; exits with one line when the server ends."""
    start = time.monotonic()
    while time.monotonic() - start < READY_TIMEOUT:
        if proc.poll() is not None:
            output.thread.join(timeout=2)
            fail(f"the MLflow server exited ({proc.returncode}): {output.reason()}", EXIT_FAILED)
        try:
            urllib.request.urlopen(base + "/health", timeout=1).close()
            return time.monotonic() - start
        except OSError:
            time.sleep(0.2)
    stop_tree(proc)
    fail(f"the MLflow server did not answer within {READY_TIMEOUT:.0f} s", EXIT_FAILED)


def experiments(base, name=None):
    """[(id, name)] of the store's experiments, most recently updated first."""
    body = {"max_results": SHOWN_EXPERIMENTS, "order_by": ["last_update_time DESC"],
            **({"filter": f"name = '{name}'"} if name else {})}
    request = urllib.request.Request(base + "/api/2.0/mlflow/experiments/search",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        found = json.load(r).get("experiments", [])
    return [(e["experiment_id"], e["name"]) for e in found
            if name or e["name"] != "Default" or len(found) == 1]


def stop_tree(proc):
    """SIGTERM to the server's process group, SIGKILL to what is left after STOP_TIMEOUT."""
    def alive():
        try:
            os.killpg(proc.pid, 0)
            return True
        except ProcessLookupError:
            return False
    for sig, timeout in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            proc.poll()  # reap the group leader
            if not alive():
                return
            time.sleep(0.1)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not 1 <= args.port <= 65535:
        fail(f"--port {args.port}: allowed 1-65535")
    if args.workers < 1:
        fail(f"--workers {args.workers}: allowed a positive integer")

    try:
        uri = default_tracking(args.tracking_uri).uri
    except ConfigError as e:
        fail(str(e))
    try:
        check_bindable(args.host, args.port)
    except OSError as e:
        fail(f"cannot serve on {args.host}:{args.port}: {e.strerror or e}", EXIT_FAILED)
    path = sqlite_path(uri)
    if path and not os.path.isfile(path):  # the server would create an empty one here
        fail(f"no MLflow store at {mask(uri)} ({os.path.abspath(path)}): run dnn-ui in the "
             "folder where dnn-train or dnn-sweep ran, or point at the store with "
             "--tracking-uri URI or MLFLOW_TRACKING_URI")
    cmd, env, shown = server_command(args, uri)
    base = local_address(args.host, args.port)

    def on_signal(signum, frame):
        raise Stop

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    proc = None
    try:
        print(f"starting the MLflow UI on {shown} ({args.workers} worker"
              f"{'s' if args.workers > 1 else ''}) ...", flush=True)
        # A session of its own: Ctrl-C reaches dnn-ui alone, which stops the whole tree.
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        output = ServerOutput(proc.stdout)
        seconds = wait_ready(proc, base, output)
        print(f"MLflow UI at {base}  (answered after {seconds:.1f} s; Ctrl-C to stop)", flush=True)
        show_experiments(base, args.experiment)
        proc.wait()
        output.thread.join(timeout=2)
        fail(f"the MLflow server exited ({proc.returncode}): {output.reason()}", EXIT_FAILED)
    except Stop:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second Ctrl-C: no traceback
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if proc is not None:
            stop_tree(proc)
        print("MLflow UI stopped", flush=True)
        return 0
    finally:
        if proc is not None:
            stop_tree(proc)  # on every way out: nothing of the server is left behind


def show_experiments(base, name):

    try:
        found = experiments(base, name)
    except (OSError, ValueError):
        return  # the address above still works
    if name and not found:
        print(f"no experiment {name!r} in this store yet")
    for exp_id, exp_name in found:
        print(f"  runs of {exp_name!r}: {runs_url(base, exp_id)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

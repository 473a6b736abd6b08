"""dnn-ui serves the store on loopback; a run is read back through MLflow's REST API."""
import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest

from helpers import command, run_cli, run_id_from


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_commands(sid):
    """Command lines of every process in session `sid`, read whole from /proc: `ps` cuts
    lines to $COLUMNS, which would hide the arguments we check."""
    commands = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getsid(int(pid)) != sid:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                commands.append(f.read().replace(b"\0", b" ").decode().strip())
        except (OSError, ProcessLookupError):
            continue  # the process ended while we looked
    return commands


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


@pytest.mark.slow
def test_ui_serves_runs_over_rest_on_loopback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    proc = run_cli("dnn-train", "train.num_iterations=20", cwd=tmp_path,
                   env={"MLFLOW_TRACKING_URI": None}, check=0)
    run_id = run_id_from(proc.stdout)
    port = free_port()
    ui = subprocess.Popen([command("dnn-ui"), "--port", str(port)], cwd=tmp_path, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                run = get_json(f"{base}/api/2.0/mlflow/runs/get?run_id={run_id}")["run"]
                break
            except OSError:
                assert ui.poll() is None, ui.stdout.read()
                assert time.monotonic() < deadline, "MLflow UI did not answer in 90 s"
                time.sleep(0.5)
        assert run["info"]["status"] == "FINISHED"
        history = get_json(f"{base}/api/2.0/mlflow/metrics/get-history?run_id={run_id}"
                           "&metric_key=train_cost")
        assert len(history["metrics"]) == 20
        # Bound to loopback only, and the store URI is not in the server's arguments.
        commands = session_commands(ui.pid)
        server = [line for line in commands if "mlflow" in line and "--port" in line]
        assert server, commands
        assert all("mlflow.db" not in line for line in commands), commands
        assert all("--host 127.0.0.1" in line and str(port) in line for line in server), server
    finally:
        os.killpg(ui.pid, 15)
        ui.wait(timeout=30)

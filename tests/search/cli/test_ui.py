"""dnn-ui serves the store on loopback; a run is read back through MLflow's REST API."""
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request

import pytest
from helpers import command, run_cli, run_id_from


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid):
    """{pid: command line} of every process below pid, read whole from /proc: `ps` cuts
    lines to $COLUMNS, which would hide the arguments we check."""
    parents = {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{p}/stat") as f:
                parents[int(p)] = int(f.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError):
            continue  # the process ended while we looked
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child in [c for c, pp in parents.items() if pp == parent]:
            try:
                with open(f"/proc/{child}/cmdline", "rb") as f:
                    found[child] = f.read().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
            frontier.append(child)
    return found


def gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] == "Z"  # ended, not yet reaped
    except OSError:
        return True


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


@pytest.mark.slow
def test_ui_serves_runs_over_rest_on_loopback_and_stops_its_whole_tree(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    proc = run_cli("dnn-train", "train.num_iterations=20", cwd=tmp_path,
                   env={"MLFLOW_TRACKING_URI": None}, check=0)
    run_id = run_id_from(proc.stdout)
    port = free_port()
    ui = subprocess.Popen([command("dnn-ui"), "--port", str(port)], cwd=tmp_path, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(ln.rstrip("\n") for ln in ui.stdout),
                              daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        # dnn-ui prints the runs table's address after the server answers; wait for that line
        # (a SIGTERM sent before it would rightly cut the listing short).
        deadline = time.monotonic() + 90
        while not any("/runs?workflowType" in ln for ln in list(lines)):
            assert ui.poll() is None, lines
            assert time.monotonic() < deadline, f"no runs address after 90 s: {lines}"
            time.sleep(0.2)
        run = get_json(f"{base}/api/2.0/mlflow/runs/get?run_id={run_id}")["run"]
        assert run["info"]["status"] == "FINISHED"
        history = get_json(f"{base}/api/2.0/mlflow/metrics/get-history?run_id={run_id}"
                           "&metric_key=train_cost")
        assert len(history["metrics"]) == 20
        # Bound to loopback only, and the store URI is not in the server's arguments.
        tree = descendants(ui.pid)
        commands = list(tree.values())
        server = [line for line in commands if "mlflow" in line and "--port" in line]
        assert server, commands
        assert all("mlflow.db" not in line for line in commands), commands
        assert all("--host 127.0.0.1" in line and str(port) in line for line in server), server
        # One server tree: `mlflow server` and its one uvicorn worker, no job runner.
        assert len(tree) == 2 and any("uvicorn" in line for line in commands), commands
        assert not any("huey" in line for line in commands), commands
    finally:
        ui.send_signal(15)  # to dnn-ui alone, as `kill -TERM` would
        ui.wait(timeout=60)
        reader.join(timeout=10)
    out = "\n".join(lines)
    assert ui.returncode == 0, out
    assert not listening(port) and all(gone(p) for p in tree), out
    assert lines[-1] == "MLflow UI stopped" and "Traceback" not in out, out
    # What it printed: where the UI is, and the experiment's runs table (not GenAI pages).
    assert any(ln.startswith(f"MLflow UI at {base}") for ln in lines), out
    assert any(f"{base}/#/experiments/" in ln and "/runs?workflowType=machine_learning" in ln
               for ln in lines), out
    assert not any("Warning" in ln or "INFO" in ln for ln in lines), out


def test_ui_cannot_start_says_why_in_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli("dnn-ui", "--port", port, cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in proc.stderr
    proc = run_cli("dnn-ui", "--port", 70000, cwd=tmp_path)
    assert proc.returncode == 2 and "--port 70000: allowed 1-65535" in proc.stderr
    proc = run_cli("dnn-ui", "--host", "192.0.2.1", cwd=tmp_path)  # not this machine's
    assert proc.returncode == 1 and "cannot serve on 192.0.2.1:5000" in proc.stderr
    assert not (tmp_path / "mlruns").exists()


def test_ui_in_a_folder_without_a_store_says_where_it_looked_and_creates_none(
        tmp_path, monkeypatch, capsys):
    from search.cli import ui

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SystemExit) as stop:
        ui.main(["--port", str(port)])
    assert stop.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: no MLflow store at sqlite:///mlruns/mlflow.db "
                           f"({tmp_path}/mlruns/mlflow.db)")
    assert "--tracking-uri URI or MLFLOW_TRACKING_URI" in line
    assert list(tmp_path.iterdir()) == []

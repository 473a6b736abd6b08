import pytest

"""The CLI contract through the installed scripts as real processes: exit 2 and one `error:`
line naming the key for bad input, nothing created; a failure after the start exits 1 in one
line naming the exception; HYDRA_FULL_ERROR=1 shows the traceback. (Every bad-input case
runs in-process in test_bad_input.py.)"""
from helpers import run_cli, run_ids


def one_error_line(proc):
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_dnn_train_exits_2_with_one_line_and_creates_nothing(tmp_path):
    proc = run_cli("dnn-train", "train.seed=-1", cwd=tmp_path)
    assert proc.returncode == 2
    assert one_error_line(proc) == "error: train.seed=-1: must be an integer in [0, 4294967295]"
    assert list(tmp_path.iterdir()) == []


def test_dnn_sweep_refuses_a_space_the_run_would_refuse_before_any_study(tmp_path):
    proc = run_cli("dnn-sweep", "search.space.train.optimizer.choices=[gd,sgd]", cwd=tmp_path)
    assert proc.returncode == 2
    assert "train.optimizer='sgd': must be one of gd, momentum, adam" in one_error_line(proc)
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_tracking_scheme_in_the_environment_creates_no_study(tmp_path):
    proc = run_cli("dnn-sweep", "search.n_trials=1", cwd=tmp_path,
                   env={"MLFLOW_TRACKING_URI": "foo://x"})
    assert proc.returncode == 2
    assert "MLFLOW_TRACKING_URI='foo://x': unknown store scheme 'foo'" in one_error_line(proc)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_dnn_reproduce_refuses_a_stored_resolver_without_reading_it(reproduce_store):
    cwd, ids = reproduce_store
    before = run_ids(cwd)
    proc = run_cli("dnn-reproduce", ids["secret"], cwd=cwd, env={"SECRET_TOKEN": "hunter2"})
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "'${oc.env:SECRET_TOKEN}' at tracking.experiment" in line and "hunter2" not in line
    assert run_ids(cwd) == before


def test_dnn_ui_refuses_an_unknown_tracking_scheme(tmp_path):
    proc = run_cli("dnn-ui", "--tracking-uri", "foo://x", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--tracking-uri='foo://x'" in one_error_line(proc)
    assert list(tmp_path.iterdir()) == []


def test_hydra_full_error_shows_the_traceback(tmp_path):
    """The one-line errors hide nothing: HYDRA_FULL_ERROR=1 brings the traceback back."""
    import os
    import subprocess

    from helpers import command

    env = {**os.environ, "HYDRA_FULL_ERROR": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.run([command("dnn-train"), "data=nosuch"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" in proc.stderr
    assert not (tmp_path / "mlruns").exists()


@pytest.mark.slow
def test_a_failure_after_start_names_the_exception_not_hydras_hint(tmp_path):
    """A web server that is not MLflow answers the health check but fails the API calls:
    the one error line is the exception, not Hydra's 'set HYDRA_FULL_ERROR' hint."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert time.monotonic() < deadline, "http.server did not start"
            time.sleep(0.2)
        work = tmp_path / "work"
        work.mkdir()
        proc = run_cli("dnn-train", f"tracking.uri=http://127.0.0.1:{port}",
                       "train.num_iterations=5", cwd=work, env={"MLFLOW_TRACKING_URI": None})
    finally:
        server.terminate()
        server.wait(timeout=30)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert proc.returncode == 1, proc.stderr
    assert len(errors) == 1 and "HYDRA_FULL_ERROR" not in errors[0], proc.stderr
    assert "MlflowException" in errors[0] and "404" in errors[0], errors[0]

"""Workers started by cluster engines (search/launcher): a SLURM job array through
submitit's local executor and a Dask cluster, real processes on real stores. Each launched
worker joins the study as a local one does: the study ends at exactly n_trials, one child
run per trial, nothing RUNNING; a node lost mid-trial is a dead worker, retried once."""
import os
import signal
import subprocess
import sys
import time

import pytest
from faults import (
    DEADLINE,
    FIXED_LENGTH,
    S,
    Sweep,
    assert_nothing_left_running,
    assert_one_run_per_trial,
    assert_retries_repeat_their_trial,
    client_of,
    counted,
    load_trials,
    pid_of,
    split_runs,
    wait_for,
)
from helpers import run_cli

pytestmark = pytest.mark.slow
SHORT = [*FIXED_LENGTH, "train.num_iterations=30", "search.heartbeat_interval=1",
         "search.grace_period=3"]
SUBMITIT_LOCAL = ["search/launcher=slurm", "search.launcher.executor=local"]


def finished_study(cwd, n):
    trials = load_trials(cwd)
    assert len(counted(trials)) == n
    assert len({t.number for t in trials}) == len(trials)
    assert_nothing_left_running(cwd)
    return trials, assert_one_run_per_trial(cwd, trials)


def test_a_submitit_job_array_runs_the_study_to_its_total(tmp_path):
    sweep = Sweep(tmp_path, *SUBMITIT_LOCAL, "search.workers=2", "search.n_trials=4", *SHORT)
    try:
        assert sweep.wait() == 0, sweep.output()
        out, _ = sweep.output()
    finally:
        sweep.kill()
    assert "verdict:" in out
    finished_study(tmp_path, 4)
    assert list((tmp_path / "mlruns" / "launcher").iterdir()), "submitit's job folders"


def test_a_dask_cluster_at_an_address_runs_the_study(tmp_path):
    """A scheduler and a worker of their own, as a cluster's would be; the sweep joins it
    by its address."""
    port = 18786 + os.getpid() % 1000
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                                  "--host", "127.0.0.1", "--port", str(port),
                                  "--dashboard-address", ":0"], cwd=tmp_path, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker",
                               f"tcp://127.0.0.1:{port}", "--nworkers", "2", "--nthreads", "1",
                               "--dashboard-address", ":0"], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    sweep = None
    try:
        wait_for(lambda: _answers(port), 120, "the Dask scheduler")
        sweep = Sweep(tmp_path, "search/launcher=dask",
                      f"search.launcher.address=tcp://127.0.0.1:{port}", "search.workers=2",
                      "search.n_trials=4", *SHORT)
        assert sweep.wait() == 0, sweep.output()
        assert "verdict:" in sweep.output()[0]
        finished_study(tmp_path, 4)
    finally:
        if sweep:
            sweep.kill()
        for p in (worker, scheduler):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)


def _answers(port):
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def test_a_node_lost_mid_trial_is_a_dead_worker_retried_once(tmp_path):
    """kill -9 of one array task while it trains: its trial fails, its run is closed and
    its parameters are retried once; the study still ends at its total."""
    long = [*FIXED_LENGTH, "train.num_iterations=10000", "train.eval_every=1000",
            "search.n_trials=3"]
    sweep = Sweep(tmp_path, *SUBMITIT_LOCAL, "search.workers=2", *long)
    try:
        def training():  # a trial whose run exists: the node is lost while it trains
            return [t for t in load_trials(tmp_path) if t.state == S.RUNNING
                    and "owner" in t.user_attrs and "mlflow_run_id" in t.user_attrs]
        victim = wait_for(training, DEADLINE, "a trial in training")[0]
        os.kill(pid_of(victim.user_attrs["owner"]), signal.SIGKILL)
        assert sweep.wait() == 0, sweep.output()
    finally:
        sweep.kill()
    trials, _ = finished_study(tmp_path, 3)
    retries = assert_retries_repeat_their_trial(trials)
    assert [r.user_attrs["retry_of"] for r in retries] == [victim.number]


def test_submit_and_leave_prints_how_to_follow_and_follow_closes_the_study(tmp_path):
    out = run_cli("dnn-sweep", *SUBMITIT_LOCAL, "search.launcher.wait=false", "search.workers=2",
                  "search.n_trials=3", *SHORT, cwd=tmp_path, timeout=DEADLINE, check=0).stdout
    assert "submitted: 2 job(s) of submitit's local executor" in out
    follow = out.split("once they end (refit, verdict, report):\n")[1].strip().splitlines()[0]
    assert follow.startswith("dnn-sweep ") and follow.endswith("search/launcher=follow")
    assert "search.launcher" not in follow.replace("search/launcher=follow", "")
    parents, _ = split_runs(client_of(tmp_path))
    assert parents[0].info.status == "RUNNING", "the study is not closed by a submitter"
    args = follow.split()[1:]
    out = run_cli("dnn-sweep", *[a.strip("'") for a in args], cwd=tmp_path, timeout=DEADLINE,
                  check=0).stdout
    assert "verdict:" in out
    finished_study(tmp_path, 3)


def test_follow_starts_no_worker_and_ends_when_none_is_left(tmp_path):
    """A study with trials to go and no worker anywhere: follow does not train, and ends."""
    started = time.monotonic()
    proc = run_cli("dnn-sweep", "search/launcher=follow", "search.launcher.poll_seconds=0.5",
                   "search.n_trials=2", *SHORT, cwd=tmp_path, timeout=DEADLINE)
    assert proc.returncode != 0 or "no trial completed" in proc.stderr
    assert not [t for t in load_trials(tmp_path) if t.state != S.WAITING], "nothing trained"
    assert time.monotonic() - started < DEADLINE


def test_an_unreachable_scheduler_stops_the_sweep_before_anything_is_stored(tmp_path):
    proc = run_cli("dnn-sweep", "search/launcher=dask", "search.launcher.address=tcp://127.0.0.1:9",
                   "search.launcher.connect_timeout=2", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "error: search.launcher.address='tcp://127.0.0.1:9': no Dask scheduler answers there")
    assert not (tmp_path / "mlruns").exists()

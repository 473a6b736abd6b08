"""32 workers on one study: a SLURM job array of 32 tasks through submitit's local executor,
tiny trials, the study in one PostgreSQL database, once through dnn-storage-proxy and once
directly, and the runs on one MLflow server (itself on PostgreSQL) behind a counting HTTP
proxy. The study ends with search.n_trials finished trials (directly, exactly: the ask
lock; through the proxy at most workers - 1 more: no shared lock), no duplicated trial
number or child run, nothing RUNNING, every child run with its full curve, and the study
database's sessions within budget: the proxy's 10, or directly two per process (one at rest,
one more in flight). The MLflow requests per trial and per second are printed.

The two sweeps take about 200 s of CPU and 130 s of wall time on 2 idle cores (each worker
about 5 s to import what it runs, then its trials, the MLflow server's answers and the
study's report; docs/distributed.md): a fifth of the whole suite's time, so it runs only when
DNNSWEEP_TEST_SCALE=1 (`DNNSWEEP_TEST_SCALE=1 python -m pytest -n 0 -s
tests/reliability/test_scale.py`). Real PostgreSQL (DNNSWEEP_TEST_POSTGRES_URL; skipped
when unset), real processes."""
import contextlib
import os
import time

import pytest
from faults import FIXED_LENGTH
from helpers import run_cli
from http_proxy import proxy_to
from pg_checks import Sessions, check_runs, check_study
from pg_helpers import (
    fresh_database,
    free_port,
    mlflow_server,
    server_url,
    storage_proxy,
    study_trials,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.skipif(os.environ.get("DNNSWEEP_TEST_SCALE") != "1",
                                 reason="32 workers, twice: about 200 s of CPU; "
                                        "DNNSWEEP_TEST_SCALE=1 runs it")]

WORKERS, N_TRIALS, ITERATIONS, NAME = 32, 32, 10, "scale32"
ARGS = ["search/launcher=slurm", "search.launcher.executor=local",
        f"search.workers={WORKERS}", f"search.n_trials={N_TRIALS}", "search/sampler=random",
        *FIXED_LENGTH, f"train.num_iterations={ITERATIONS}", f"search.study_name={NAME}"]
PROXY_BUDGET = 10  # database sessions the proxy may hold for 32 workers
DIRECT_BUDGET = 2 * (WORKERS + 1)  # directly: two sessions a process, workers and launcher


def sweep(tmp_path, storage, tracking_uri):
    start = time.monotonic()
    proc = run_cli("dnn-sweep", f"search.storage={storage}", *ARGS, cwd=tmp_path,
                   env={"MLFLOW_TRACKING_URI": tracking_uri}, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return time.monotonic() - start


def checked_study(db, uri):
    """The study's trials, checked against its MLflow runs."""
    trials = study_trials(db, NAME)
    finished = check_study(trials, N_TRIALS)
    assert len(finished) == len(trials)
    check_runs(uri, NAME, trials, ITERATIONS)
    assert len({t.user_attrs.get("owner") for t in trials}) > 1, "several workers took part"
    return trials


@pytest.mark.parametrize("way", ["proxy", "direct"])
def test_32_workers_finish_the_study_within_the_database_budget(tmp_path, way):
    server = server_url()
    with fresh_database(server, "mlflow") as mlflow_db, fresh_database(server, "s32") as db, \
            mlflow_server(mlflow_db, tmp_path / "server") as upstream, \
            proxy_to(upstream) as (requests, uri):
        port = free_port()
        with contextlib.ExitStack() as stack:
            storage = db
            if way == "proxy":
                stack.enter_context(storage_proxy(db, port))
                storage = f"grpc://127.0.0.1:{port}"
            sessions = stack.enter_context(Sessions(server, db))
            seconds = sweep(tmp_path, storage, uri)
        trials = checked_study(db, uri)
    peak, median = sessions.figures()
    sent = len(requests.requests)
    print(f"\n{WORKERS} workers {way}, {N_TRIALS} trials in {seconds:.0f} s: database sessions "
          f"peak {peak}, median {median}; {len(trials)} trials; MLflow requests {sent} "
          f"({sent / len(trials):.1f} a trial, {sent / seconds:.1f} a second)")
    if way == "proxy":  # no shared lock through the proxy: a worker may start one trial more
        assert N_TRIALS <= len(trials) <= N_TRIALS + WORKERS - 1, len(trials)
        assert peak <= PROXY_BUDGET, f"{peak} database sessions through the proxy"
    else:
        assert len(trials) == N_TRIALS
        assert peak <= DIRECT_BUDGET, f"{peak} database sessions directly"

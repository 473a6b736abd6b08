"""The database budget of a study with several local workers and tiny trials, measured in
pg_stat_activity: directly on PostgreSQL (one connection per process at rest, at most two in
flight),
and through dnn-storage-proxy (the proxy's threads only, whatever the workers: half as many
threads as workers). Real PostgreSQL (DNNSWEEP_TEST_POSTGRES_URL; skipped when unset), real
processes.

4 workers by default: the bounds are per process (and the proxy's threads fewer than the
workers), so 4 prove what 8 do, while each worker costs about 5 s of CPU only to import what
it runs. DNNSWEEP_TEST_BUDGET_WORKERS=8 runs the measurement quoted in docs/distributed.md
(8 workers, 24 trials, a proxy of 4 threads)."""
import os
import time

import pytest
from faults import FIXED_LENGTH, S
from helpers import run_cli
from pg_checks import Sessions
from pg_helpers import (
    free_port,
    fresh_database,
    server_url,
    storage_proxy,
    study_trials,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKERS = int(os.environ.get("DNNSWEEP_TEST_BUDGET_WORKERS", "4"))
N_TRIALS, THREADS = 3 * WORKERS, WORKERS // 2
ARGS = [f"search.workers={WORKERS}", f"search.n_trials={N_TRIALS}", "search/sampler=random",
        *FIXED_LENGTH, "train.num_iterations=30", "search.study_name=budget"]


def sweep(tmp_path, storage):
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    start = time.monotonic()
    proc = run_cli("dnn-sweep", f"search.storage={storage}", *ARGS, cwd=tmp_path, env=env,
                   timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return time.monotonic() - start


def test_workers_directly_hold_at_most_two_connections_each(tmp_path):
    server = server_url()
    with fresh_database(server, "budget") as db:
        with Sessions(server, db) as sessions:
            seconds = sweep(tmp_path, db)
        trials = study_trials(db, "budget")
    peak, median = sessions.figures()
    print(f"\n{WORKERS} workers directly, {N_TRIALS} trials in {seconds:.0f} s: database "
          f"sessions peak {peak}, median {median}")
    assert len(trials) == N_TRIALS and all(t.state == S.COMPLETE for t in trials)
    # the workers and their launcher: one connection each at rest, two in flight
    assert median <= WORKERS + 1 + 2, f"{median} sessions at rest for {WORKERS + 1} processes"
    assert peak <= 2 * (WORKERS + 1), f"{peak} sessions for {WORKERS} workers and a launcher"


def test_workers_through_a_smaller_proxy_leave_the_database_the_proxys_threads(tmp_path):
    server = server_url()
    port, threads = free_port(), THREADS
    with fresh_database(server, "budget") as db:
        with storage_proxy(db, port, "--threads", str(threads)), \
                Sessions(server, db) as sessions:
            seconds = sweep(tmp_path, f"grpc://127.0.0.1:{port}")
        trials = study_trials(db, "budget")
    peak, median = sessions.figures()
    print(f"\n{WORKERS} workers through the proxy ({threads} threads), {N_TRIALS} trials in "
          f"{seconds:.0f} s: database sessions peak {peak}, median {median}; "
          f"{len(trials)} trials")
    numbers = [t.number for t in trials]
    assert len(set(numbers)) == len(numbers)
    assert not [t.number for t in trials if not t.state.is_finished()], "left RUNNING"
    # no shared lock through the proxy: each worker may start one trial past n_trials
    assert N_TRIALS <= len(trials) <= N_TRIALS + WORKERS - 1, len(trials)
    assert peak <= threads + 1, f"{peak} database sessions through a proxy of {threads}"

"""A PostgreSQL outage longer than the storage's retry budget under a running sweep: the
trials that finish training while the database is down are recorded once it is back
(COMPLETE, their runs FINISHED), not failed, retried or lost; the study ends with exactly
search.n_trials, none duplicated, nothing RUNNING.

The database is a private PostgreSQL server of this test (initdb and pg_ctl in a temporary
folder, tests/pg_cluster.py), stopped and started again; the shared server is never touched.
The retry budget is cut to a few seconds (DNNSWEEP_DB_RETRY_SECONDS) so that the outage
outlasts it quickly.
"""
import time

import pytest
from faults import (
    DEADLINE,
    FIXED_LENGTH,
    S,
    Sweep,
    all_runs,
    assert_one_run_per_trial,
    client_of,
    counted,
    wait_for,
)
from pg_cluster import private_server

BUDGET = 4  # seconds of retries of each storage call (DNNSWEEP_DB_RETRY_SECONDS)
STATUS = {S.COMPLETE: "FINISHED", S.PRUNED: "KILLED", S.FAIL: "FAILED"}


@pytest.mark.postgres
@pytest.mark.slow
def test_trials_trained_during_an_outage_longer_than_the_retry_budget_are_recorded(tmp_path):
    import optuna

    from search import links

    n_trials = 3
    with private_server() as pg:
        args = ["search.workers=2", f"search.n_trials={n_trials}", *FIXED_LENGTH,
                f"search.storage={pg.url}", "search.heartbeat_interval=1",
                "search.grace_period=4", "search.space.train.learning_rate.high=0.1",
                "train.num_iterations=10000", "train.eval_every=1000"]
        sweep = Sweep(tmp_path, *args, env={"DNNSWEEP_DB_RETRY_SECONDS": str(BUDGET)})

        def trials():
            return optuna.load_study(study_name="planar-sweep", storage=pg.url).get_trials()

        def trained(run_id):  # its last artifacts are in the (local) MLflow store
            return any(a.path == "parameters.npz"
                       for a in client_of(tmp_path).list_artifacts(run_id))
        try:
            def in_flight():
                running = [t for t in trials() if t.state == S.RUNNING
                           and t.user_attrs.get("mlflow_run_id")]
                return running if len(running) == 2 else None
            caught = wait_for(in_flight, DEADLINE, "both workers inside a trial", every=0.2)
            pg.stop()
            down = time.monotonic()
            try:
                # Both trials end their training while the database is down, and every
                # attempt to record them outlasts the budget.
                wait_for(lambda: all(trained(t.user_attrs["mlflow_run_id"]) for t in caught),
                         DEADLINE, "the trials in flight trained")
                time.sleep(BUDGET + 6)
            finally:
                pg.start()
                down = time.monotonic() - down
            code = sweep.wait()
            out, err = sweep.output()
        finally:
            sweep.kill()
        final = trials()
    assert code == 0, (out, err)
    assert "Traceback" not in err, err
    assert "waiting for the database at 127.0.0.1" in err, err
    by_number = {t.number: t for t in final}
    for t in caught:  # recorded as trained, in the run that trained them
        done = by_number[t.number]
        assert done.state == S.COMPLETE, (t.number, done.state, links.fail_reason(done))
        assert done.user_attrs["mlflow_run_id"] == t.user_attrs["mlflow_run_id"]
    assert [t.state for t in final] == [S.COMPLETE] * n_trials, \
        [(t.number, t.state.name, links.fail_reason(t)) for t in final]
    assert len(counted(final)) == n_trials
    _, children = assert_one_run_per_trial(tmp_path, final)
    status = {r.info.run_id: r.info.status for r in children}
    assert {t.number: status[t.user_attrs["mlflow_run_id"]] for t in final} == \
        {t.number: STATUS[t.state] for t in final}
    assert not [r.info.run_id for r in all_runs(client_of(tmp_path))
                if r.info.status == "RUNNING"]
    notes = [line for line in err.splitlines() if line.startswith("dnnsweep: ")]
    print(f"\ndatabase down {down:.1f} s (retry budget {BUDGET} s):\n" + "\n".join(notes))

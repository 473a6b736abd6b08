"""Workers and launchers of dnn-sweep under faults, with real processes and real stores in
temporary working directories:

- a worker killed with kill -9 mid-trial: its trial ends FAIL within seconds, is retried once
  with the same parameters, and its MLflow run does not stay RUNNING;
- Ctrl-C (SIGINT to the process group) and SIGTERM: the sweep stops within seconds with the
  in-flight trials and runs closed, and the same command resumes the study to its total;
- 4 local workers on one study of 40 quick trials: every trial and run complete, no
  "database is locked";
- two launchers of one study draw their own trials;
- kill -9 of the launcher: its workers stop, and the same command reaches the total;
- kill -9 of the launcher during its refit or confirmation run: the re-run closes that run
  KILLED and does its work once;
- a worker paused (SIGSTOP) past the grace period (PostgreSQL): its trial is failed and
  retried, and the resumed worker leaves that trial and its run alone;
- search.timeout stops the trials in flight.
"""
import os
import re
import signal
import time

import pytest
from faults import (
    DEADLINE,
    FIXED_LENGTH,
    S,
    Sweep,
    all_runs,
    assert_nothing_left_running,
    assert_one_run_per_trial,
    assert_retries_repeat_their_trial,
    client_of,
    counted,
    ended,
    load_trials,
    locks_held,
    pid_of,
    process_state,
    split_runs,
    stop_between_writes,
    wait_for,
)
from helpers import run_cli

# ---------------------------------------------------------------------------- killed worker

@pytest.mark.slow
def test_a_killed_worker_trial_fails_is_retried_and_its_run_is_closed(tmp_path):
    n_trials = 3  # trials of some seconds: the kill lands in one, which is then trained again
    args = ["search.workers=2", f"search.n_trials={n_trials}", *FIXED_LENGTH,
            "train.num_iterations=10000", "train.eval_every=1000"]
    sweep = Sweep(tmp_path, *args)
    try:
        def victim():
            for t in load_trials(tmp_path):
                owner, run_id = t.user_attrs.get("owner"), t.user_attrs.get("mlflow_run_id")
                if t.state == S.RUNNING and owner and run_id and pid_of(owner) != sweep.pid:
                    status = client_of(tmp_path).get_run(run_id).info.status
                    if status == "RUNNING":
                        return t
            return None
        trial = wait_for(victim, DEADLINE, "a running trial with its MLflow run")
        os.kill(pid_of(trial.user_attrs["owner"]), signal.SIGKILL)
        killed_at = time.monotonic()

        def failed():
            t = {t.number: t for t in load_trials(tmp_path)}[trial.number]
            return t if t.state == S.FAIL else None
        dead = wait_for(failed, 120, f"trial {trial.number} of the killed worker to end FAIL",
                        every=0.2)
        detect = time.monotonic() - killed_at
        print(f"\ndead worker's trial {trial.number} failed {detect:.1f} s after kill -9")
        assert "worker died" in dead.user_attrs["fail_reason"]
        def closed():  # the trial is failed first, then its run is closed
            run = client_of(tmp_path).get_run(trial.user_attrs["mlflow_run_id"])
            return run if run.info.status != "RUNNING" else None
        run = wait_for(closed, 60, "the dead worker's run to be closed")
        print(f"its MLflow run closed {time.monotonic() - killed_at:.1f} s after kill -9")
        assert run.info.status in ("FAILED", "KILLED"), "the dead worker's run is closed"
        assert "worker died" in run.data.tags.get("error", "")

        assert sweep.wait() == 0, sweep.output()
        trials = load_trials(tmp_path)
        retries = assert_retries_repeat_their_trial(trials)
        assert [r.user_attrs["retry_of"] for r in retries] == [trial.number]
        assert retries[0].state == S.COMPLETE
        assert len(counted(trials)) == n_trials, "no trial lost, none too many"
        assert_one_run_per_trial(tmp_path, trials)
        assert_nothing_left_running(tmp_path)
    finally:
        sweep.kill()


# ------------------------------------------------------------------------ interrupted sweep

def interrupt(sweep, how):
    if how == "ctrl-c":
        os.killpg(sweep.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    else:
        os.kill(sweep.pid, signal.SIGTERM)  # the launcher only, as `kill PID` does


RESUMED = "ctrl-c"  # the study one of them leaves is resumed (the same command again)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
@pytest.mark.slow
def test_an_interrupted_sweep_closes_its_trials_and_resumes_to_its_total(tmp_path, how):
    """Either signal closes the in-flight trials (FAIL "interrupted"), their runs and the
    parent run KILLED, checked for both; what a re-run reads is that stored state alone, the
    same after either, so the resume to the total is checked once (RESUMED)."""
    n_trials = 4
    args = ["search.workers=2", f"search.n_trials={n_trials}", *FIXED_LENGTH,
            "train.num_iterations=6000", "train.eval_every=500"]
    sweep = Sweep(tmp_path, *args)
    try:
        def in_flight():
            trials = load_trials(tmp_path)
            running = [t for t in trials if t.state == S.RUNNING
                       and t.user_attrs.get("mlflow_run_id")]
            return running if len(running) == 2 else None
        wait_for(in_flight, DEADLINE, "both workers inside a trial")
        interrupt(sweep, how)
        sent = time.monotonic()
        code = sweep.wait(timeout=120)
        stop = time.monotonic() - sent
        print(f"\n{how}: dnn-sweep exited {code} after {stop:.1f} s")
        out, err = sweep.output()
        assert code == 130, (out, err)
        assert "run the same command again to resume" in err
        assert "Traceback" not in err
        assert_nothing_left_running(tmp_path)
        trials = load_trials(tmp_path)
        stopped = [t for t in trials if t.user_attrs.get("fail_reason") == "interrupted"]
        assert stopped, "the in-flight trials are closed as interrupted"
        client = client_of(tmp_path)
        for t in stopped:
            assert t.state == S.FAIL
            run = client.get_run(t.user_attrs["mlflow_run_id"])
            assert run.info.status == "KILLED" and run.data.tags["error"] == "interrupted"
        parents, _ = split_runs(client)
        assert [p.info.status for p in parents] == ["KILLED"]
        if how != RESUMED:
            return

        again = run_cli("dnn-sweep", *args, cwd=tmp_path, timeout=DEADLINE)
        assert again.returncode == 0, (again.stdout, again.stderr)
        done = len(counted(trials))  # the interrupted trials wait for their retries
        assert (f"resuming at {done}/{n_trials} finished trials; {len(stopped)} interrupted "
                "trial(s) retried first") in again.stdout
        # the retried trials count once, as their retries: never 5/4
        assert re.search(rf"^trials {n_trials}/{n_trials} \|.* retried {len(stopped)}\b",
                         again.stderr, re.M), again.stderr
        trials = load_trials(tmp_path)
        assert len(counted(trials)) == n_trials, "the study resumes to its total"
        assert not [t for t in trials if t.state in (S.WAITING, S.RUNNING)]
        retries = assert_retries_repeat_their_trial(trials)
        assert {r.user_attrs["retry_of"] for r in retries} == {t.number for t in stopped}
        parent, _ = assert_one_run_per_trial(tmp_path, trials)
        assert parent.info.status == "FINISHED"
        assert_nothing_left_running(tmp_path)
    finally:
        sweep.kill()


# ------------------------------------------------------------------------------ concurrency

@pytest.mark.slow
def test_four_workers_share_one_study_of_40_trials(tmp_path):
    # 40 trials are ten asks of each worker against three others: as many collisions on the
    # journal and the run store as a test shows (200 took 118 s, most of it the same)
    n_trials, iterations = 40, 30
    start = time.monotonic()
    proc = run_cli("dnn-sweep", "search.workers=4", f"search.n_trials={n_trials}",
                   "search/sampler=random", *FIXED_LENGTH, f"train.num_iterations={iterations}",
                   cwd=tmp_path, timeout=DEADLINE)
    print(f"\n{n_trials} trials on 4 workers: {time.monotonic() - start:.0f} s")
    output = proc.stdout + proc.stderr
    assert "database is locked" not in output and "Traceback" not in output
    assert proc.returncode == 0, output
    trials = load_trials(tmp_path)
    assert len(trials) == n_trials
    assert all(t.state == S.COMPLETE for t in trials), \
        {t.number: t.user_attrs.get("fail_reason") for t in trials if t.state != S.COMPLETE}
    parent, children = assert_one_run_per_trial(tmp_path, trials)
    assert parent.info.status == "FINISHED"
    assert all(r.info.status == "FINISHED" for r in children)
    client = client_of(tmp_path)
    for r in children:
        steps = [m.step for m in client.get_metric_history(r.info.run_id, "train_cost")]
        assert sorted(steps) == list(range(iterations)), r.info.run_id
        assert {"val_cost", "val_accuracy", "train_accuracy"} <= set(r.data.metrics)
    owners = {t.user_attrs["owner"] for t in trials}
    assert len(owners) == 4, "the four workers all ran trials"
    assert len({tuple(sorted(t.params.items())) for t in trials}) == n_trials, \
        "workers sample different trials (not the same seeded sequence four times)"


# ------------------------------------------------------------ two launchers, one study

@pytest.mark.slow
def test_two_launchers_of_one_study_draw_their_own_trials(tmp_path):
    args = ["search.workers=1", "search.n_trials=6", "search/sampler=random", *FIXED_LENGTH,
            "train.num_iterations=30"]
    a, b = Sweep(tmp_path, *args), Sweep(tmp_path, *args)
    try:
        assert a.wait() == 0 and b.wait() == 0, (a.output(), b.output())
    finally:
        a.kill(), b.kill()
    trials = load_trials(tmp_path)
    drawn = [tuple(sorted(t.params.items())) for t in trials]
    assert len(trials) >= 6 and len(set(drawn)) == len(drawn), drawn


# --------------------------------------------------------------------- launcher kill -9

@pytest.mark.slow
def test_a_launcher_killed_with_kill_9_stops_its_workers_and_a_rerun_reaches_the_total(tmp_path):
    """kill -9 of the launcher: its workers stop at their next iteration (each watches
    its launcher's end of a pipe), closing their trials (FAIL "interrupted") and runs (KILLED); the same command
    run again finds nothing running elsewhere, closes the parent run and reaches the total."""
    n_trials = 3
    args = ["search.workers=2", f"search.n_trials={n_trials}", *FIXED_LENGTH,
            "train.num_iterations=5000", "train.eval_every=500"]
    sweep = Sweep(tmp_path, *args)
    try:
        def in_flight():
            running = [t for t in load_trials(tmp_path) if t.state == S.RUNNING
                       and t.user_attrs.get("mlflow_run_id")]
            return running if len(running) == 2 else None
        running = wait_for(in_flight, DEADLINE, "both workers inside a trial", every=0.2)
        os.kill(sweep.pid, signal.SIGKILL)  # the launcher only: its workers are orphans
        killed_at = time.monotonic()

        pids = [pid_of(t.user_attrs["owner"]) for t in running]
        try:
            wait_for(lambda: all(map(ended, pids)), 120, "the orphaned workers to stop",
                     every=0.2)
        except AssertionError as e:
            raise AssertionError(f"{e}; workers: {[process_state(p) for p in pids]}; "
                                 f"output: {sweep.output()}") from None
        print(f"\norphaned workers gone {time.monotonic() - killed_at:.1f} s after kill -9")
        trials = {t.number: t for t in load_trials(tmp_path)}
        for t in running:
            assert trials[t.number].state == S.FAIL
            assert trials[t.number].user_attrs["fail_reason"] == "interrupted"
            assert client_of(tmp_path).get_run(t.user_attrs["mlflow_run_id"]).info.status \
                == "KILLED"
        parents, _ = split_runs(client_of(tmp_path))
        assert [p.info.status for p in parents] == ["RUNNING"], "its launcher died"
    finally:
        sweep.kill()

    again = run_cli("dnn-sweep", *args, cwd=tmp_path, timeout=DEADLINE)  # the same command
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert "running elsewhere" not in again.stdout + again.stderr
    trials = load_trials(tmp_path)
    assert len(counted(trials)) == n_trials, "the study reaches its total"
    retries = assert_retries_repeat_their_trial(trials)
    assert {r.user_attrs["retry_of"] for r in retries} == {t.number for t in running}
    parent, _ = assert_one_run_per_trial(tmp_path, trials)
    assert parent.info.status == "FINISHED"
    assert_nothing_left_running(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("phase, settings", [
    ("refit", ["search.refit=true"]),
    ("confirm", ["search.confirm.top_k=1", "search.confirm.seeds=2"]),
])
def test_a_launcher_killed_during_refit_or_confirm_leaves_no_orphan_run(tmp_path, phase,
                                                                         settings):
    """kill -9 of the launcher while its refit (or confirmation) run trains: the same command
    run again closes that run KILLED with the reason and does its work once, in one new run."""
    args = ["search.workers=1", "search.n_trials=1", *FIXED_LENGTH, *settings,
            "train.num_iterations=10000", "train.eval_every=500"]
    sweep = Sweep(tmp_path, *args)
    try:
        def under_way():
            _, children = split_runs(client_of(tmp_path))
            return [r for r in children if r.data.tags.get(phase) == "true"
                    and r.info.status == "RUNNING"]
        orphan = wait_for(under_way, DEADLINE, f"the {phase} run", every=0.2)[0].info.run_id
        os.kill(sweep.pid, signal.SIGKILL)
        wait_for(lambda: ended(sweep.pid) or None, 60, "the launcher to die")
    finally:
        sweep.kill()
    assert client_of(tmp_path).get_run(orphan).info.status == "RUNNING", "left by kill -9"

    again = run_cli("dnn-sweep", *args, cwd=tmp_path, timeout=DEADLINE)
    assert again.returncode == 0, (again.stdout, again.stderr)
    closed = client_of(tmp_path).get_run(orphan)
    assert closed.info.status == "KILLED"
    assert "launcher" in closed.data.tags["error"] and "died" in closed.data.tags["error"]
    _, children = split_runs(client_of(tmp_path))
    others = [r for r in children if r.data.tags.get(phase) == "true" and r.info.run_id != orphan]
    names = [r.info.run_name for r in others]  # refit-trial-N, confirm-trial-N-seed-S
    assert all(r.info.status == "FINISHED" for r in others)
    assert len(set(names)) == len(names), "each piece of work done once"
    assert closed.info.run_name in names, "the orphan's work done again, in a new run"
    assert_nothing_left_running(tmp_path)


# ------------------------------------------------------------ a worker paused past its grace

def heartbeat_recorded(url, trial_id):
    from pg_helpers import _connect

    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM trial_heartbeats WHERE trial_id = %s", (trial_id,))
            return cur.fetchone()[0] > 0
    finally:
        conn.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_worker_paused_past_the_grace_period_leaves_its_lost_trial_alone(tmp_path):
    """SIGSTOP of a worker for longer than search.grace_period (PostgreSQL, heartbeats): the
    launcher fails its trial, closes its run FAILED and retries it; resumed (SIGCONT), the
    worker writes nothing more to that trial or run and goes on, without a traceback."""
    import optuna
    from pg_helpers import fresh_database, server_url

    from search import links

    with fresh_database(server_url(), "paused") as url:
        args = ["search.workers=2", "search.n_trials=3", *FIXED_LENGTH, f"search.storage={url}",
                "search.heartbeat_interval=1", "search.grace_period=4",
                "train.num_iterations=15000", "train.eval_every=1000"]
        sweep = Sweep(tmp_path, *args)
        mlflow_db = tmp_path / "mlruns" / "mlflow.db"

        def trials():
            return optuna.load_study(study_name="planar-sweep", storage=url).get_trials()
        try:
            def in_flight():
                running = [t for t in trials() if t.state == S.RUNNING
                           and t.user_attrs.get("mlflow_run_id")]
                return running if len(running) == 2 else None
            paused = wait_for(in_flight, DEADLINE, "both workers inside a trial", every=0.2)[0]
            pid = pid_of(paused.user_attrs["owner"])
            run_id = paused.user_attrs["mlflow_run_id"]
            # Optuna judges stale only a trial with a recorded heartbeat: the worker's
            # heartbeat thread beats first, but on a busy machine it may not have yet.
            beat_already = heartbeat_recorded(url, paused._trial_id)
            wait_for(lambda: heartbeat_recorded(url, paused._trial_id), DEADLINE,
                     "the paused trial's first heartbeat", every=0.1)
            # Stopped between two of its writes: stopped inside one (the trial's first
            # writes are under way right now), it would hold the trial's row or the MLflow
            # store's lock, and the launcher's failing of the trial would wait on it.
            met = stop_between_writes(pid, lambda p: locks_held(p, url, mlflow_db))
            print(f"\nworker {pid} stopped; its trial's heartbeat recorded when its run "
                  f"was: {beat_already}; locks it held at earlier stops: {met}")
            try:
                try:
                    failed = wait_for(
                        lambda: client_of(tmp_path).get_run(run_id).info.status == "FAILED"
                        and trials()[paused.number].state == S.FAIL, 120,
                        "the paused trial failed")
                except AssertionError as e:  # what was left undone, and what held it
                    raise AssertionError(
                        f"{e}: trial {trials()[paused.number].state.name}, run "
                        f"{client_of(tmp_path).get_run(run_id).info.status}, locks held by the "
                        f"stopped worker: {locks_held(pid, url, mlflow_db)}; launcher's "
                        f"stderr:\n{sweep.output()[1][-3000:]}") from None
                closed = client_of(tmp_path).get_run(run_id).info
            finally:
                os.kill(pid, signal.SIGCONT)
            assert failed
            code = sweep.wait()
            out, err = sweep.output()
        finally:
            sweep.kill()
        assert code == 0, (out, err)
        assert "Traceback" not in err, err
        after = client_of(tmp_path).get_run(run_id).info
        assert (after.status, after.end_time) == ("FAILED", closed.end_time), "left alone"
        final = trials()
        assert final[paused.number].state == S.FAIL
        assert links.fail_reason(final[paused.number]) == links.WORKER_DIED
        assert len(counted(final)) == 3
        assert not [t.number for t in final if t.state == S.RUNNING]
        assert not [r.info.run_id for r in all_runs(client_of(tmp_path))
                    if r.info.status == "RUNNING"]


# ------------------------------------------------------------------ search.timeout in flight

TIMEOUT = 40


@pytest.mark.slow
def test_search_timeout_stops_the_trials_in_flight(tmp_path):
    """search.timeout=40 (it counts from the command's start and leaves END_SECONDS to the
    study's end: the rest, over 30 s, for the store and the workers to start on a busy
    machine and their first trials to begin) with trials far longer: the trials in flight stop at the deadline
    (PRUNED, with the reason; runs KILLED) instead of running to their end, and the sweep
    says no trial completed within it."""
    args = ["search.workers=2", "search.n_trials=4", f"search.timeout={TIMEOUT}", *FIXED_LENGTH,
            "train.num_iterations=100000000", "train.eval_every=1000"]
    proc = run_cli("dnn-sweep", *args, cwd=tmp_path, timeout=DEADLINE)
    assert proc.returncode == 1, proc.stderr
    assert f"no trial completed within search.timeout={TIMEOUT}" in proc.stderr
    trials = load_trials(tmp_path)
    assert trials and all(t.state == S.PRUNED for t in trials), [t.state for t in trials]
    assert all("search.timeout" in t.user_attrs["reason"] for t in trials)
    _, children = assert_one_run_per_trial(tmp_path, trials)
    assert {r.info.status for r in children} == {"KILLED"}
    assert_nothing_left_running(tmp_path)

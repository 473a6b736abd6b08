"""What the PostgreSQL tests measure and check: a database's sessions in pg_stat_activity
while a sweep runs, and a finished study on PostgreSQL with its runs on an MLflow server
(no duplicated trial, nothing RUNNING, one child run per trial with its full curve)."""
import statistics
import threading

from pg_helpers import _connect

STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}


class Sessions:
    """pg_stat_activity's sessions on one database, sampled every 20 ms in a thread."""

    def __init__(self, server, db_url):
        import sqlalchemy

        self.name = sqlalchemy.engine.make_url(db_url).database
        self.conn, self.counts = _connect(server), []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        with self.conn.cursor() as cur:
            while not self.stop.wait(0.02):
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                            (self.name,))
                self.counts.append(cur.fetchone()[0])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)
        self.conn.close()

    def figures(self):
        return max(self.counts), statistics.median(self.counts)


def check_study(trials, n_trials):
    import optuna

    S = optuna.trial.TrialState
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)), f"duplicate trial numbers: {numbers}"
    left = [(t.number, t.state.name) for t in trials if not t.state.is_finished()]
    assert not left, f"trials left unfinished: {left}"
    finished = [t for t in trials if t.state in (S.COMPLETE, S.PRUNED, S.FAIL)]
    return finished


def check_runs(tracking_uri, experiment, trials, num_iterations, parents=1):
    """The MLflow side mirrors the study: one parent run, one child run per trial with
    the trial's number and state, none RUNNING, full train_cost history."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None, f"no MLflow experiment {experiment!r}"
    runs = client.search_runs([exp.experiment_id], max_results=5000)
    parent = [r for r in runs if r.data.tags.get("dnnsweep.role") == "study"]
    assert len(parent) == parents, [r.info.run_id for r in parent]
    parent_id = parent[0].info.run_id
    children = [r for r in runs if r.data.tags.get("dnnsweep.role") != "study"]
    running = [r.info.run_name for r in runs if r.info.status in ("RUNNING", "SCHEDULED")]
    assert not running, f"runs left RUNNING: {running}"
    for r in children:
        assert r.data.tags.get("mlflow.parentRunId") == parent_id, r.info.run_name
    by_number = {}
    for r in children:
        n = int(r.data.tags["optuna.trial_number"])
        assert n not in by_number, f"two runs for trial {n}"
        by_number[n] = r
    with_run = {t.number: t for t in trials if t.user_attrs.get("mlflow_run_id")}
    assert set(by_number) == set(with_run), (sorted(by_number), sorted(with_run))
    for n, t in with_run.items():
        run = by_number[n]
        assert run.info.run_id == t.user_attrs["mlflow_run_id"]
        assert run.info.status == STATUS[t.state.name], (n, t.state.name, run.info.status)
        if run.info.status == "FINISHED":
            history = client.get_metric_history(run.info.run_id, "train_cost")
            steps = sorted(m.step for m in history)
            assert steps == list(range(num_iterations)), (n, len(steps))
            assert client.get_metric_history(run.info.run_id, "val_cost"), n
    return client, parent[0], by_number

"""The selection metrics for small and imbalanced data pass a sweep's checks (bad values:
tests/search/config/test_schema.py)."""
import optuna
import pytest

from search import links
from search.config.compose import compose_checked
from search.study.study import check_sweep_config


@pytest.mark.parametrize("metric", ["val_balanced_accuracy", "val_auc", "val_accuracy"])
def test_the_scores_for_small_and_imbalanced_data_are_selection_metrics(metric):
    compose_checked("sweep", [f"search.metric={metric}", "search.direction=maximize"],
                    check_sweep_config)


def test_the_confirmation_settings_are_off_by_default():
    cfg = compose_checked("sweep", [], check_sweep_config)
    assert cfg.search.confirm.top_k == 0 and cfg.search.confirm.seeds == 3


def dead_trial_study(tmp_path, tracking_uri, reason=None):
    """A journal study with one trial failed as dead (or, with reason, by its own worker), its
    MLflow run left RUNNING in a real store; and the sweep config naming tracking_uri as the
    run store."""
    import mlflow
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    run = client.create_run(client.create_experiment("dead"))
    study = optuna.create_study(storage=JournalStorage(JournalFileBackend(
        str(tmp_path / "journal"))))
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    trial.set_user_attr("mlflow_run_id", run.info.run_id)
    if reason:
        trial.set_user_attr(links.FAIL_REASON, reason)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)  # as fail_stale_trials does
    cfg = compose_checked("sweep", [f"tracking.uri={tracking_uri}"], check_sweep_config)
    return client, run.info.run_id, study, cfg


def test_a_dead_trial_is_retried_even_when_its_run_store_cannot_be_reached(tmp_path):
    from search.study.study import close_dead_trial

    unreachable = f"sqlite:///{tmp_path}/no/such/folder/mlflow.db"
    client, run_id, study, cfg = dead_trial_study(tmp_path, unreachable)
    (failed,) = study.trials
    with pytest.raises(Exception):
        close_dead_trial(study, failed, "its worker died", cfg)
    waiting = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert [t.user_attrs["retry_of"] for t in waiting] == [failed.number]
    assert client.get_run(run_id).info.status == "RUNNING"  # left for the study's end


def test_the_studys_end_closes_the_runs_its_failed_trials_left_running(tmp_path):
    from search.study.study import close_failed_trial_runs

    client, run_id, study, cfg = dead_trial_study(tmp_path, f"sqlite:///{tmp_path}/mlflow.db")
    assert close_failed_trial_runs(study, cfg) == 1
    run = client.get_run(run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["error"] == links.WORKER_DIED
    assert close_failed_trial_runs(study, cfg) == 0  # an ended run is left alone


def test_the_studys_end_reads_no_run_of_a_trial_that_failed_in_its_own_worker(tmp_path):
    from search.study.study import close_failed_trial_runs

    client, run_id, study, cfg = dead_trial_study(tmp_path, f"sqlite:///{tmp_path}/mlflow.db",
                                                  reason="training diverged")
    assert close_failed_trial_runs(study, cfg) == 0
    assert client.get_run(run_id).info.status == "RUNNING"

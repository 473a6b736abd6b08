"""search.patience: a study ends once N trials in a row did not improve the best."""
import optuna
import pytest
from helpers import run_cli
from hydra import compose, initialize_config_dir
from optuna.storages.journal import JournalFileBackend, JournalStorage

from search.config import ConfigError, conf_dir
from search.study.stopping import stall_length, stop_reason
from search.study.study import check_sweep_config

S = optuna.trial.TrialState


def trial(value=None, state=S.COMPLETE, warm=False):
    attrs = {"warm_start_from": "old#0"} if warm else {}
    return optuna.trial.create_trial(state=state, value=value if state == S.COMPLETE else None,
                                     user_attrs=attrs)


def test_stall_length_counts_trials_since_the_last_real_improvement():
    minimize = optuna.study.StudyDirection.MINIMIZE
    values = [1.0, 0.9, 0.95, 0.89, 0.9]
    trials = [trial(v) for v in values]
    for i, t in enumerate(trials):
        t.number = i
    assert stall_length(trials, minimize) == 1            # 0.89 improved, 0.9 did not
    assert stall_length(trials, minimize, min_delta=0.05) == 3  # only 0.9 beat 1.0 by > 0.05
    pruned, failed = trial(state=S.PRUNED), trial(state=S.FAIL)
    pruned.number, failed.number = 5, 6
    assert stall_length([*trials, pruned, failed], minimize) == 3
    maximize = optuna.study.StudyDirection.MAXIMIZE
    assert stall_length(trials, maximize) == 4            # 1.0 first, never beaten


def test_warm_start_trials_set_the_best_but_do_not_count():
    minimize = optuna.study.StudyDirection.MINIMIZE
    trials = [trial(0.5, warm=True), trial(0.5, warm=True), trial(0.7), trial(0.6)]
    for i, t in enumerate(trials):
        t.number = i
    assert stall_length(trials, minimize) == 2


def test_stop_reason_is_stored_on_the_study_and_kept(tmp_path):
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.journal")))
    study = optuna.create_study(storage=storage, study_name="s")
    study.add_trials([trial(v) for v in (1.0, 1.0, 1.0)])
    search = {"patience": 2, "min_delta": 0.0}
    from omegaconf import OmegaConf
    search = OmegaConf.create(search)
    assert stop_reason(study, search) == "patience"
    assert study.user_attrs["stopped"] == {"by": "patience", "patience": 2, "min_delta": 0.0}
    study.add_trial(trial(0.1))  # an in-flight trial that improves does not restart it
    assert stop_reason(study, search) == "patience"
    assert stop_reason(study, OmegaConf.create({"patience": 5, "min_delta": 0.0})) is None
    assert stop_reason(study, OmegaConf.create({"patience": None, "min_delta": 0.0})) is None


@pytest.mark.parametrize("override, key", [
    ("search.patience=0", "search.patience"), ("search.patience=-3", "search.patience"),
    ("search.patience=1.5", "search.patience"), ("search.patience=true", "search.patience"),
    ("search.min_delta=-0.1", "search.min_delta"), ("search.min_delta=inf", "search.min_delta"),
    ("search.min_delta=nan", "search.min_delta"), ("search.min_delta=abc", "search.min_delta"),
])
def test_bad_patience_settings_are_refused_naming_the_key(override, key):
    from search.config.compose import compose_checked

    with pytest.raises(ConfigError, match=key):  # a wrong type: at composition
        compose_checked("sweep", [override], check_sweep_config)


ONE_CHOICE = [*(f"~search.space.{k}" for k in (
    "train.learning_rate", "train.batch_size", "train.lambd",
    "model.hidden_units", "model.activation")),
    "search.space.train.optimizer.choices=[gd]", "train.num_iterations=50",
    "search.n_trials=30", "search.workers=1", "search.patience=3"]


@pytest.mark.slow
def test_patience_stops_a_study_that_cannot_improve(tmp_path):
    # One dimension with one choice: every trial trains the same network, so no trial
    # after the first improves; patience 3 ends the study after 4 of its 30 trials.
    from mlflow import MlflowClient

    proc = run_cli("dnn-sweep", *ONE_CHOICE, cwd=tmp_path, env={"MLFLOW_TRACKING_URI": ""},
                   check=0)
    assert "stopped: 3 trials in a row" in proc.stdout
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "mlruns" / "optuna.journal")))
    study = optuna.load_study(study_name="planar-sweep", storage=storage)
    assert len(study.trials) == 4 and all(t.state == S.COMPLETE for t in study.trials)
    client = MlflowClient(f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    parent = client.get_run(study.user_attrs["mlflow_parent_run_id"])
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["dnnsweep.stopped"] == "patience"
    again = run_cli("dnn-sweep", *ONE_CHOICE, cwd=tmp_path, env={"MLFLOW_TRACKING_URI": ""},
                    check=0)
    # after the lines saying what it opens: why nothing runs, then the study as it stands
    assert any(line.endswith("did not improve it; nothing to run (raise search.patience to go "
                             "on)") for line in again.stdout.splitlines())
    assert "best " in again.stdout and "MLflow parent run" not in again.stdout


@pytest.mark.slow
def test_patience_is_decided_from_the_storage_by_every_launcher_of_the_study(tmp_path):
    # Two launchers of one study (as two machines would be, sharing its storage): the stall
    # they count is the study's, so together they stop once after 3 trials in a row did not
    # improve, not after 3 of their own each.
    from faults import Sweep

    launchers = [Sweep(tmp_path, *ONE_CHOICE) for _ in range(2)]
    try:
        codes = [s.wait() for s in launchers]
        outputs = [s.output() for s in launchers]
    finally:
        for s in launchers:
            s.kill()
    assert codes == [0, 0], outputs
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "mlruns" / "optuna.journal")))
    study = optuna.load_study(study_name="planar-sweep", storage=storage)
    # 1 best + 3 without improvement, and at most one more that was in flight elsewhere
    assert 4 <= len(study.trials) <= 5, [t.number for t in study.trials]
    assert all(t.state == S.COMPLETE for t in study.trials)
    assert study.user_attrs["stopped"]["by"] == "patience"

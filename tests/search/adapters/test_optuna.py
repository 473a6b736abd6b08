"""search/adapters/optuna.py: what Optuna's heartbeat protocol asks of a storage is still
where the adapter reaches for it, and an RDBStorage still answers it."""
import importlib
import time

import optuna
import sqlalchemy

from search.adapters.optuna import BaseHeartbeat, engine_of, stale_trial_ids


def test_optuna_still_tells_heartbeat_storages_by_the_class_the_adapter_exports():
    heartbeat = importlib.import_module("optuna.storages._heartbeat")
    assert heartbeat.BaseHeartbeat is BaseHeartbeat, (
        "Optuna moved optuna.storages._heartbeat.BaseHeartbeat: update search/adapters/optuna.py")
    assert "_get_stale_trial_ids" in BaseHeartbeat.__abstractmethods__, (
        "Optuna renamed BaseHeartbeat._get_stale_trial_ids: update search/adapters/optuna.py")
    assert issubclass(optuna.storages.RDBStorage, BaseHeartbeat)


def test_an_rdb_storage_names_its_stale_trials_and_its_engine(tmp_path):
    rdb = optuna.storages.RDBStorage(f"sqlite:///{tmp_path}/o.db", heartbeat_interval=1,
                                     grace_period=1)
    assert isinstance(engine_of(rdb), sqlalchemy.engine.Engine)
    study = optuna.create_study(storage=rdb)
    trial = study.ask()
    study_id = rdb.get_study_id_from_name(study.study_name)
    trial_id = rdb.get_trial_id_from_study_id_trial_number(study_id, trial.number)
    rdb.record_heartbeat(trial_id)
    assert stale_trial_ids(rdb, study_id) == []
    time.sleep(2.5)  # past the grace period without a beat
    assert stale_trial_ids(rdb, study_id) == [trial_id]
    engine_of(rdb).dispose()

"""What a storage of Optuna's heartbeat protocol needs and Optuna names only privately.

Study.optimize and optuna.storages.fail_stale_trials tell a storage that keeps heartbeats
by isinstance(storage, BaseHeartbeat), a class of optuna.storages._heartbeat (not exported),
and ask it for stale trials through the abstract _get_stale_trial_ids, which RDBStorage
answers. The SQLAlchemy engine of an RDBStorage is its attribute `engine`, which Optuna
does not promise to users: read here alone, to watch its connection errors and to close it.
"""
from optuna.storages._heartbeat import BaseHeartbeat

__all__ = ["BaseHeartbeat", "engine_of", "stale_trial_ids"]


def stale_trial_ids(rdb, study_id):
    """IDs of the study's RUNNING trials whose heartbeat is older than the grace period."""
    return rdb._get_stale_trial_ids(study_id)


def engine_of(rdb):
    """The SQLAlchemy engine an optuna.storages.RDBStorage talks through."""
    return rdb.engine

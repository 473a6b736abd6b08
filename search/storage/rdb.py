"""Optuna's RDB storage made to ride out database outages (a restart, a dropped connection).

Calls that are safe to repeat are retried with backoff; writes that are not (a new trial,
claiming a queued trial, a state change) carry a token or are checked, so that a retry
never duplicates what an earlier attempt committed. This module imports Optuna's RDB
machinery (SQLAlchemy) at once: it is imported only when search.storage is a database URL,
so journal-file studies never load it.
"""
import contextlib
import copy
import datetime
import time
import uuid

import optuna
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import FrozenTrial, TrialState

from search.storage import urls
from search.storage.locks import INIT_LOCK_KEY, pg_advisory_lock
from search.storage.retry import Retry, error_chain, is_server_restarting, is_transient


def lost_table_race(exc):
    """A concurrent CREATE TABLE of the same schema (PostgreSQL reports it as a duplicate
    pg_type row, others as 'already exists')."""
    names = ("IntegrityError", "ProgrammingError", "UniqueViolation", "DuplicateTable",
             "DuplicateObject", "StorageInternalError", "OperationalError")
    return any(type(e).__name__ in names and ("pg_type_typname_nsp_index" in str(e)
                                              or "already exists" in str(e))
               for e in error_chain(exc))


# RDBStorage methods retried as they are: running them twice is harmless (reads, upserts,
# inserts that ignore a duplicate key). Those that only call others (get_all_trials ->
# _get_trials, set_trial_param -> _set_trial_param, get_best_trial) are retried there.
IDEMPOTENT = (
    "get_study_id_from_name", "get_study_name_from_id", "get_study_directions",
    "get_study_user_attrs", "get_study_system_attrs", "get_all_studies",
    "set_study_user_attr", "set_study_system_attr",
    "get_trial", "_get_trials", "get_trial_param",
    "get_trial_user_attrs", "get_trial_system_attrs",
    "get_trial_id_from_study_id_trial_number", "_get_best_trial_id",
    "_set_trial_param", "set_trial_intermediate_value",
    "set_trial_user_attr", "set_trial_system_attr",
)
CREATE_TOKEN = "dnnsweep:create_token"
CLAIM_TOKEN = "dnnsweep:claim_token"


def _retried(name):
    method = getattr(RDBStorage, name)

    def call(self, *args, **kwargs):
        return self._retry(method, self, *args, **kwargs)
    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


class RetryingRDBStorage(RDBStorage):
    """Optuna's RDBStorage whose every call waits out a database outage (bounded
    exponential backoff, see search.retry) instead of failing the trial or the worker.

    Writes that must not happen twice check, after a failed attempt, whether the
    attempt was committed anyway: a new trial carries a unique token (a system
    attribute) that is looked up; a WAITING trial is claimed together with a token;
    a state change is looked up on the trial. Stale heartbeats are not judged while
    a database outage may be their cause (see heartbeats_trustworthy)."""

    def __init__(self, url, *args, retry=None, **kwargs):
        self._retry_policy = retry or Retry()
        self._retry_policy.on_failure = self._forget_session
        super().__init__(url, *args, **kwargs)

    def __getstate__(self):
        state = super().__getstate__()
        state["_retry_policy"] = None
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._retry_policy = Retry()
        self._retry_policy.on_failure = self._forget_session

    def _forget_session(self, _error):
        # A session whose connection died may refuse further use until rolled back:
        # start the next attempt on a fresh one (the pool pings its connections).
        try:
            self.scoped_session.remove()
        except Exception:  # noqa: BLE001 - its connection is gone anyway
            pass

    def _retry(self, fn, *args, landed=None, **kwargs):
        return self._retry_policy(fn, *args, landed=landed, **kwargs)

    # -- writes that are not idempotent ------------------------------------------------

    def create_new_study(self, directions, study_name=None):
        def landed():
            if study_name is None:
                return False, None
            try:
                return True, RDBStorage.get_study_id_from_name(self, study_name)
            except KeyError:
                return False, None
        return self._retry(RDBStorage.create_new_study, self, directions, study_name,
                           landed=landed)

    def delete_study(self, study_id):
        def landed():
            try:
                RDBStorage.get_study_name_from_id(self, study_id)
                return False, None
            except KeyError:
                return True, None
        return self._retry(RDBStorage.delete_study, self, study_id, landed=landed)

    def create_new_trial(self, study_id, template_trial=None):
        return self._create_new_trial(study_id, template_trial)._trial_id

    def _create_new_trial(self, study_id, template_trial=None):
        token = uuid.uuid4().hex
        if template_trial is None:
            template = FrozenTrial(
                number=-1, state=TrialState.RUNNING, value=None, values=None,
                datetime_start=datetime.datetime.now(), datetime_complete=None,
                params={}, distributions={}, user_attrs={}, system_attrs={},
                intermediate_values={}, trial_id=-1)
        else:
            template = copy.deepcopy(template_trial)
        template.system_attrs = {**template.system_attrs, CREATE_TOKEN: token}

        def once():
            # Optuna's own _create_new_trial retries a failed commit blindly (which can
            # create the trial twice): one attempt here, retried with the token check.
            with _create_scoped_session(self.scoped_session) as session:
                models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
                trial = self._get_prepared_new_trial(study_id, template, session)
                frozen = copy.deepcopy(template)
                frozen.number = trial.number
                frozen.datetime_start = trial.datetime_start
                frozen._trial_id = trial.trial_id
                return frozen

        def landed():
            for t in RDBStorage._get_trials(self, study_id, None, set(), -1):
                if t.system_attrs.get(CREATE_TOKEN) == token:
                    return True, t
            return False, None

        return self._retry(once, landed=landed)

    def set_trial_state_values(self, trial_id, state, values=None):
        if state == TrialState.RUNNING:
            return self._claim_waiting_trial(trial_id)

        def landed():
            trial = RDBStorage.get_trial(self, trial_id)
            if trial.state == state and (values is None or trial.values == list(values)):
                return True, True
            return False, None  # not landed: the retry raises if another state won
        return self._retry(RDBStorage.set_trial_state_values, self, trial_id, state, values,
                           landed=landed)

    def _claim_waiting_trial(self, trial_id):
        """WAITING -> RUNNING (study.ask taking an enqueued trial), with a token written
        in the same transaction: a retry can tell our claim from another worker's."""
        token = uuid.uuid4().hex

        def once():
            with _create_scoped_session(self.scoped_session) as session:
                trial = models.TrialModel.find_or_raise_by_id(trial_id, session,
                                                              for_update=True)
                self.check_trial_is_updatable(trial_id, trial.state)
                if trial.state != TrialState.WAITING:
                    return False
                trial.state = TrialState.RUNNING
                trial.datetime_start = datetime.datetime.now()
                self._set_trial_attr_without_commit(
                    session, models.TrialSystemAttributeModel, trial_id, CLAIM_TOKEN, token)
            return True

        def landed():
            attrs = RDBStorage.get_trial_system_attrs(self, trial_id)
            return (True, True) if attrs.get(CLAIM_TOKEN) == token else (False, None)

        try:
            return self._retry(once, landed=landed)
        except optuna.exceptions.UpdateFinishedTrialError:
            return False

    # -- heartbeats ----------------------------------------------------------------------

    def record_heartbeat(self, trial_id):
        # Not retried here (Heartbeat beats again soon), but an outage is noted so that
        # this process does not judge other trials' heartbeats meanwhile.
        try:
            return RDBStorage.record_heartbeat(self, trial_id)
        except Exception as e:
            if is_transient(e):
                self._retry_policy.last_failure = time.time()
                self._forget_session(e)
            raise

    def heartbeats_trustworthy(self):
        """False while a recent database outage (seen by this process, or a server restart)
        may be why heartbeats are old: their workers could not beat, so stale trials are
        judged (optuna.storages.fail_stale_trials) only a grace period later."""
        if not self.heartbeat_interval:
            return False
        grace = self.grace_period or 2 * self.heartbeat_interval
        window = grace + self.heartbeat_interval
        last = self._retry_policy.last_failure
        if last is not None and time.time() - last < window:
            return False
        return not self._server_restarted_within(window)

    def _server_restarted_within(self, seconds):
        if self.engine.dialect.name != "postgresql":
            return False
        import sqlalchemy

        def query():
            with self.engine.connect() as conn:
                return conn.execute(sqlalchemy.text(
                    "SELECT now() - pg_postmaster_start_time() < make_interval(secs => :s)"
                ), {"s": float(seconds)}).scalar()
        return bool(self._retry(query))


for _name in IDEMPOTENT:
    setattr(RetryingRDBStorage, _name, _retried(_name))
del _name


def open_rdb(url, heartbeat_interval, grace_period, budget, on_stale_trial=None):
    """RetryingRDBStorage on url. Opening waits only for a server that said it is
    restarting: an unreachable host or port is reported at once (a mistyped URL should not
    hang the command). Two machines opening a new database at once race to create Optuna's
    tables: serialized by an advisory lock (PostgreSQL), and the loser of a race tries again.
    on_stale_trial(study, trial) is Optuna's heartbeat-stale callback, called by
    optuna.storages.fail_stale_trials for each trial it failed."""
    import warnings


    # Our Heartbeat thread beats for ask/tell trials: Optuna's note on every ask is noise.
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used",
                            category=UserWarning)
    opening = Retry(budget, transient=lambda e: is_server_restarting(e) or lost_table_race(e))
    lock = pg_advisory_lock(url, INIT_LOCK_KEY, 0) if urls.backend(url) == "postgresql" \
        else contextlib.nullcontext()
    with lock:
        return opening(RetryingRDBStorage, url, engine_kwargs=urls.engine_kwargs(url),
                       heartbeat_interval=heartbeat_interval, grace_period=grace_period,
                       heartbeat_stale_trial_callback=on_stale_trial if heartbeat_interval
                       else None, retry=Retry(budget))

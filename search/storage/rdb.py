"""Optuna's RDB storage made to ride out database outages (a restart, a dropped connection),
on Optuna's public storage interface: RetryingRDBStorage is a BaseStorage that delegates
every call to an optuna.storages.RDBStorage and retries it.

Calls that are safe to repeat are retried with backoff; writes that are not (a new trial,
claiming a queued trial, a state change) carry a token or are checked, so that a retry
never duplicates what an earlier attempt committed. This module imports Optuna's RDB
machinery (SQLAlchemy) at once: it is imported only when search.storage is a database URL,
so journal-file studies never load it.
"""
import abc
import contextlib
import copy
import datetime
import threading
import time
import uuid
import warnings

import sqlalchemy
from optuna.storages import BaseStorage, RDBStorage
from optuna.trial import FrozenTrial, TrialState

from search.adapters.optuna import BaseHeartbeat, engine_of, stale_trial_ids
from search.storage import claims, urls
from search.storage.locks import INIT_LOCK_KEY, pg_advisory_lock
from search.storage.trial_cache import FinishedTrials
from search.storage.retry import (
    AnswerLost,
    Retry,
    error_chain,
    is_server_restarting,
    is_transient,
)

CREATE_TOKEN = "dnnsweep:create_token"

# Calls retried as they are: running them twice is harmless (reads, upserts, inserts that
# ignore a duplicate key).
IDEMPOTENT = (
    "get_study_id_from_name", "get_study_name_from_id", "get_study_directions",
    "get_study_user_attrs", "get_study_system_attrs", "get_all_studies",
    "set_study_user_attr", "set_study_system_attr",
    "get_trial", "get_best_trial", "get_trial_param",
    "get_trial_params", "get_trial_user_attrs", "get_trial_system_attrs",
    "get_trial_id_from_study_id_trial_number", "get_trial_number_from_id",
    "set_trial_param", "set_trial_intermediate_value",
    "set_trial_user_attr", "set_trial_system_attr",
    "get_heartbeat_interval", "get_heartbeat_stale_trial_callback",
)


def lost_table_race(exc):
    """A concurrent CREATE TABLE of the same schema (PostgreSQL reports it as a duplicate
    pg_type row, others as 'already exists')."""
    names = ("IntegrityError", "ProgrammingError", "UniqueViolation", "DuplicateTable",
             "DuplicateObject", "StorageInternalError", "OperationalError")
    return any(type(e).__name__ in names and ("pg_type_typname_nsp_index" in str(e)
                                              or "already exists" in str(e))
               for e in error_chain(exc))


def delegating(names):
    """Class decorator: each of names calls the same method of self.rdb, retried."""
    def decorate(cls):
        for name in names:
            setattr(cls, name, _retried(name))
        abc.update_abstractmethods(cls)
        return cls
    return decorate


def _retried(name):
    def call(self, *args, **kwargs):
        return self.retry(getattr(self.rdb, name), *args, **kwargs)
    call.__name__ = name
    call.__doc__ = getattr(RDBStorage, name).__doc__
    return call


@delegating(IDEMPOTENT)
class RetryingRDBStorage(BaseStorage, BaseHeartbeat):
    """An RDBStorage whose every call waits out a database outage (bounded exponential
    backoff, see search.storage.retry) instead of failing the trial or the worker.

    Writes that must not happen twice check, after a failed attempt, whether the attempt
    was committed anyway: a new trial carries a unique token (a system attribute) that is
    looked up, and is made in one attempt at a time (RDBStorage's own retry of a failed
    commit is stopped: see _one_attempt); a WAITING trial is claimed as search.storage.claims
    says; a state change is looked up on the trial. Stale heartbeats are not judged while a
    database outage may be their cause (see heartbeats_trustworthy). A study's finished
    trials are read once (search.storage.trial_cache)."""

    def __init__(self, url, *, engine_kwargs=None, heartbeat_interval=None, grace_period=None,
                 heartbeat_stale_trial_callback=None, retry=None):
        self.heartbeat_interval, self.grace_period = heartbeat_interval, grace_period
        self.rdb = RDBStorage(url, engine_kwargs=engine_kwargs,
                              heartbeat_interval=heartbeat_interval, grace_period=grace_period,
                              heartbeat_stale_trial_callback=heartbeat_stale_trial_callback)
        self._attach(retry or Retry())

    def _attach(self, retry):
        self.retry = retry
        self.retry.on_failure = self._forget_session
        self.retry.where = f"the database at {urls.location(self.rdb.url)}"
        self._attempt = threading.local()
        self._finished = FinishedTrials()
        sqlalchemy.event.listen(engine_of(self.rdb), "handle_error", self._one_attempt)

    def __getstate__(self):
        return {"rdb": self.rdb, "heartbeat_interval": self.heartbeat_interval,
                "grace_period": self.grace_period, "budget": self.retry.budget}

    def __setstate__(self, state):
        budget = state.pop("budget")
        self.__dict__.update(state)
        self._attach(Retry(budget))

    def close(self):
        """Close the storage's database connections."""
        engine_of(self.rdb).dispose()

    def remove_session(self):
        self.rdb.remove_session()

    def patiently(self, stop, what):
        """A block whose calls (in this thread) wait out an outage of any length until
        stop() holds: the recording of work already done (see Retry.patiently)."""
        return self.retry.patiently(stop, what)

    def _forget_session(self, _error):
        # A session whose connection died may refuse further use until rolled back:
        # start the next attempt on a fresh one (the pool pings its connections).
        with contextlib.suppress(Exception):  # its connection is gone anyway
            self.rdb.remove_session()

    def _one_attempt(self, ctx):
        """SQLAlchemy's handle_error hook: during a write made once per attempt, a lost
        connection is raised as AnswerLost, which RDBStorage does not retry on its own
        (it retries a failed trial creation blindly, and could make the trial twice)."""
        error = ctx.sqlalchemy_exception or ctx.original_exception
        if getattr(self._attempt, "once", False) and not ctx.is_pre_ping \
                and self.retry.transient(error):
            raise AnswerLost(str(error).splitlines()[0] if str(error) else type(error).__name__)

    @contextlib.contextmanager
    def _once(self):
        self._attempt.once = True
        try:
            yield
        finally:
            self._attempt.once = False

    # -- writes that are not idempotent ------------------------------------------------

    def create_new_study(self, directions, study_name=None):
        def landed():
            if study_name is None:
                return False, None
            try:
                return True, self.rdb.get_study_id_from_name(study_name)
            except KeyError:
                return False, None
        return self.retry(self.rdb.create_new_study, directions, study_name, landed=landed)

    def delete_study(self, study_id):
        def landed():
            try:
                self.rdb.get_study_name_from_id(study_id)
                return False, None
            except KeyError:
                return True, None
        self._finished.forget(study_id)
        return self.retry(self.rdb.delete_study, study_id, landed=landed)

    def get_all_trials(self, study_id, deepcopy=True, states=None):
        if states is not None and not any(s.is_finished() for s in states):
            # RUNNING or WAITING ones only (an ask's look for a queued trial): never cached,
            # one query that the database filters
            return self.retry(self.rdb.get_all_trials, study_id, deepcopy, states)
        trials = self.retry(self._finished.read, self.rdb, study_id)
        if states is not None:
            trials = [t for t in trials if t.state in states]
        return copy.deepcopy(trials) if deepcopy else trials

    def create_new_trial(self, study_id, template_trial=None):
        token = uuid.uuid4().hex
        template = _template(template_trial, token)

        def once():
            with self._once():
                return self.rdb.create_new_trial(study_id, template)

        def landed():
            for t in self.rdb.get_all_trials(study_id, deepcopy=False):
                if t.system_attrs.get(CREATE_TOKEN) == token:
                    return True, self.rdb.get_trial_id_from_study_id_trial_number(
                        study_id, t.number)
            return False, None

        return self.retry(once, landed=landed)

    def set_trial_state_values(self, trial_id, state, values=None):
        if state == TrialState.RUNNING:
            return claims.claim(self.rdb, self.retry, trial_id, 2 * self.retry.budget)

        def landed():
            trial = self.rdb.get_trial(trial_id)
            if trial.state == state and (values is None or trial.values == list(values)):
                return True, True
            return False, None  # not landed: the retry raises if another state won
        return self.retry(self.rdb.set_trial_state_values, trial_id, state, values,
                          landed=landed)

    # -- heartbeats ----------------------------------------------------------------------

    def record_heartbeat(self, trial_id):
        # Not retried here (Heartbeat beats again soon), but an outage is noted so that
        # this process does not judge other trials' heartbeats meanwhile.
        try:
            return self.rdb.record_heartbeat(trial_id)
        except Exception as e:
            if is_transient(e):
                self.retry.last_failure = time.time()
                self._forget_session(e)
            raise

    def _get_stale_trial_ids(self, study_id):
        return self.retry(stale_trial_ids, self.rdb, study_id)

    def heartbeats_trustworthy(self):
        """False while a recent database outage (seen by this process, or a server restart)
        may be why heartbeats are old: their workers could not beat, so stale trials are
        judged (optuna.storages.fail_stale_trials) only a grace period later."""
        if not self.heartbeat_interval:
            return False
        grace = self.grace_period or 2 * self.heartbeat_interval
        window = grace + self.heartbeat_interval
        last = self.retry.last_failure
        if last is not None and time.time() - last < window:
            return False
        return not self._server_restarted_within(window)

    def _server_restarted_within(self, seconds):
        engine = engine_of(self.rdb)
        if engine.dialect.name != "postgresql":
            return False

        def query():
            with engine.connect() as conn:
                return conn.execute(sqlalchemy.text(
                    "SELECT now() - pg_postmaster_start_time() < make_interval(secs => :s)"
                ), {"s": float(seconds)}).scalar()
        return bool(self.retry(query))


def _template(template_trial, token):
    """The trial to create (a new RUNNING one when None), its token among its system attrs."""
    if template_trial is None:
        template = FrozenTrial(
            number=-1, state=TrialState.RUNNING, value=None, values=None,
            datetime_start=datetime.datetime.now(), datetime_complete=None,
            params={}, distributions={}, user_attrs={}, system_attrs={},
            intermediate_values={}, trial_id=-1)
    else:
        template = copy.deepcopy(template_trial)
    template.system_attrs = {**template.system_attrs, CREATE_TOKEN: token}
    return template


def open_rdb(url, heartbeat_interval, grace_period, budget, on_stale_trial=None):
    """RetryingRDBStorage on url. Opening waits only for a server that said it is
    restarting: an unreachable host or port is reported at once (a mistyped URL should not
    hang the command). Two machines opening a new database at once race to create Optuna's
    tables: serialized by an advisory lock (PostgreSQL), and the loser of a race tries again.
    on_stale_trial(study, trial) is Optuna's heartbeat-stale callback, called by
    optuna.storages.fail_stale_trials for each trial it failed."""
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

"""The links between an Optuna study and its MLflow runs, kept in Optuna user attributes.

The one place that knows their keys. Study attributes: the parent run of the study, the
refit mark. Trial attributes: the trial's run, its owner (host:pid of the worker running
it), the trial it retries, why it ended. Only public Optuna API: Study.user_attrs and
set_user_attr, Trial.set_user_attr, FrozenTrial.user_attrs, and BaseStorage's methods on
the storage the study was opened on (bound here by bind()).
"""
import contextlib
import weakref

import optuna

from search.secrets import mask
from search.storage.owners import dead_local_owner, owner_id

PARENT_RUN = "mlflow_parent_run_id"  # study: the MLflow run of the whole study
REFIT = "refit"                      # study: {"trial", "owner"} claimed, + "run_id" when done
CONFIRMING = "confirming"            # study: "host:pid" running the confirmation runs ("": none)
UNDER_WAY = "runs_under_way"         # study: {run id: "host:pid"} of refit and confirmation runs
TRIAL_RUN = "mlflow_run_id"          # trial: its MLflow run
OWNER = "owner"                      # trial: "host:pid" of the worker running it
RETRY_OF = "retry_of"                # trial: the number of the trial it retries
FAIL_REASON = "fail_reason"          # trial (FAIL): why it failed
END_REASON = "reason"                # trial (PRUNED, ...): why it ended early
METRICS = "metrics"                  # trial: every final metric of its run
EFFORT = "effort"                    # trial: {"seconds", "passes"} its training took
WORKERS = "workers_started"          # study: how many workers have joined it, ever
WARM_START = "warm_start_from"       # trial: "<study>#<number>" it was copied from (not trained)

WORKER_DIED = "worker died (no heartbeat)"
INTERRUPTED = "interrupted"

_storages = weakref.WeakKeyDictionary()


# -- the storage a study was opened on ---------------------------------------------------------

def bind(study, storage):
    """Remember the storage study was opened on (Optuna keeps it private)."""
    _storages[study] = storage
    return study


def storage_of(study):
    return _storages[study]


def trial_id(study, number):
    """The storage's id of trial number (what heartbeats and storage calls take)."""
    storage = storage_of(study)
    study_id = storage.get_study_id_from_name(study.study_name)
    return storage.get_trial_id_from_study_id_trial_number(study_id, number)


def frozen_trial(study, number):
    return storage_of(study).get_trial(trial_id(study, number))


# -- study: parent run, refit mark -------------------------------------------------------------

def parent_run_id(study):
    """The study's MLflow parent run id (None until a launcher created it)."""
    return study.user_attrs.get(PARENT_RUN)


def set_parent_run(study, run_id):
    study.set_user_attr(PARENT_RUN, run_id)


def refit_mark(study):
    return study.user_attrs.get(REFIT, {})


def claim_refit(study, number, lock):
    """None when this process is to refit trial number, else the study's refit mark (done,
    or claimed by another launcher). Launchers of one study often end together: claiming
    under the study's lock makes one of them refit. A claim left by a process of this host
    that died before storing its result is taken over."""
    with lock:
        mark = refit_mark(study)
        if mark.get("trial") == number and ("run_id" in mark
                                            or not dead_local_owner(mark.get("owner"))):
            return mark
        study.set_user_attr(REFIT, {"trial": number, "owner": owner_id()})
    return None


def claim_confirmation(study, lock):
    """None when this process is to run the study's confirmation runs, else the owner of
    another launcher's claim: launchers of one study that end together would otherwise
    each train every configuration and seed. A claim of a process of this host that died
    is taken over; release_confirmation ends one."""
    with lock:
        claim = study.user_attrs.get(CONFIRMING)
        if claim and claim != owner_id() and not dead_local_owner(claim):
            return claim
        study.set_user_attr(CONFIRMING, owner_id())
    return None


def release_confirmation(study, lock):
    with lock:
        if study.user_attrs.get(CONFIRMING) == owner_id():
            study.set_user_attr(CONFIRMING, "")


def set_refit_done(study, mark):
    """mark: {"trial", "run_id", test metrics...} of the finished refit."""
    study.set_user_attr(REFIT, mark)


@contextlib.contextmanager
def run_under_way(study, make_lock):
    """An on_start(run_id) for a refit or confirmation run: the run is recorded as under
    way by this process until the block ends (make_lock(): a new study's lock). A run whose process dies (kill -9) stays
    recorded: take_orphan_runs finds it."""
    started = []

    def on_start(run_id):
        started.append(run_id)
        _edit_under_way(study, make_lock(), lambda runs: {**runs, run_id: owner_id()})

    try:
        yield on_start
    finally:
        if started:
            _edit_under_way(study, make_lock(),
                            lambda runs: {r: o for r, o in runs.items() if r not in started})


def take_orphan_runs(study, lock):
    """{run id: owner} of the study's refit and confirmation runs whose process (of this
    host) died before ending them; they are no longer recorded as under way."""
    orphans = {}

    def drop_dead(runs):
        orphans.update({r: o for r, o in runs.items() if dead_local_owner(o)})
        return {r: o for r, o in runs.items() if r not in orphans}

    _edit_under_way(study, lock, drop_dead)
    return orphans


def _edit_under_way(study, lock, edit):
    with lock:
        runs = study.user_attrs.get(UNDER_WAY, {})
        edited = edit(runs)
        if edited != runs:
            study.set_user_attr(UNDER_WAY, edited)


def next_worker_slot(study, lock):
    """A number no other worker of the study, in any launcher on any host, ever gets:
    0, 1, 2, ... in the order they join (lock: the study's ask lock)."""
    with lock:
        slot = study.user_attrs.get(WORKERS, 0)
        study.set_user_attr(WORKERS, slot + 1)
    return slot


# -- trial: run, owner, retry, end -------------------------------------------------------------

def warm_start_source(trial):
    """"<study>#<number>" of the trial a warm-start copy comes from; None: trained here."""
    return trial.user_attrs.get(WARM_START)


def trial_run_id(trial):
    return trial.user_attrs.get(TRIAL_RUN)


def set_trial_run(trial, run_id):
    trial.set_user_attr(TRIAL_RUN, run_id)


def owner(trial):
    return trial.user_attrs.get(OWNER)


def mark_owner(trial):
    """Record this process as the trial's owner (before anything else is done with it)."""
    trial.set_user_attr(OWNER, owner_id())


def has_dead_local_owner(trial):
    return dead_local_owner(owner(trial))


def retry_of(trial):
    return trial.user_attrs.get(RETRY_OF)


def replaced(trials):
    """Numbers of the trials that a retry replaces."""
    return {retry_of(t) for t in trials} - {None}


def enqueue_retry(study, trial):
    """Queue trial's params once more, unless trial is itself a retry; True when queued."""
    if retry_of(trial) is not None:
        return False
    study.enqueue_trial(trial.params, user_attrs={RETRY_OF: trial.number})
    return True


def set_trial_metrics(trial, metrics):
    trial.set_user_attr(METRICS, metrics)


def trial_metrics(trial):
    return trial.user_attrs.get(METRICS, {})


def set_trial_effort(trial, seconds, passes):
    """What a trial's training took: seconds, and passes (iterations or epochs) run."""
    trial.set_user_attr(EFFORT, {"seconds": float(seconds), "passes": int(passes)})


def trial_effort(trial):
    return trial.user_attrs.get(EFFORT)


def set_end_reason(trial, state, reason):
    """Why trial ends in state (set before telling it: a finished trial is read-only)."""

    key = FAIL_REASON if state == optuna.trial.TrialState.FAIL else END_REASON
    trial.set_user_attr(key, mask(reason)[:2000])


def fail_reason(trial):
    """Why a FAIL trial failed. A trial failed by Optuna's heartbeat check
    (optuna.storages.fail_stale_trials) could record none: its worker died."""
    reason = trial.user_attrs.get(FAIL_REASON)
    if reason is None and trial.state == optuna.trial.TrialState.FAIL:
        return WORKER_DIED
    return reason


def fail_trial(study, number, reason):
    """Fail RUNNING trial number of another (dead) process, its reason first; its frozen
    trial, or None when it had ended meanwhile (another worker got there first)."""
    storage = storage_of(study)
    tid = trial_id(study, number)
    try:
        storage.set_trial_user_attr(tid, FAIL_REASON, reason)
        if storage.set_trial_state_values(tid, optuna.trial.TrialState.FAIL):
            return storage.get_trial(tid)
    except optuna.exceptions.UpdateFinishedTrialError:
        pass
    return None

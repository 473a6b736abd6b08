"""A trial's end recorded in the study storage through a database outage of any length.

The storage retries each call for a budget (search.storage.retry: 60 s by default). Past it,
a trial that had finished training was failed, with Optuna's wrapper of every database
error as its reason ("invalid data in the commit, e.g. exceeding max length"), its run left
FINISHED. Here a trial's end (the check that it is still this worker's, its metrics, its
state) is recorded patiently: each storage call waits until the database answers, with one
`waiting for the database at HOST:PORT/NAME ...` note, or until the sweep is stopped
(Ctrl-C, SIGTERM). Stopped while waiting, the worker writes nothing to the study: the trial
stays RUNNING under its exited owner, and the next process of the study fails it, closes
its run and retries it (search.study.study.recover_dead_trials).
"""
import contextlib

import optuna

from search import links
from search.console import logger
from search.storage.retry import describe, is_transient
from search.study.study import close_dead_trial
from search.sweep.signals import STOP
from search.tracking.client import close_run


class Unrecorded(KeyboardInterrupt):
    """The sweep was stopped while a trial's end waited for the database: nothing of it
    was recorded (a KeyboardInterrupt: the run ends KILLED, the worker stops)."""


@contextlib.contextmanager
def patiently(study, trial):
    """This thread's storage calls in the block wait out an outage of any length (RDB
    storages; others as they are); Unrecorded once the sweep is stopped meanwhile."""
    storage = links.storage_of(study)
    if not hasattr(storage, "patiently"):
        yield
        return
    try:
        with storage.patiently(STOP.is_set, f"trial {trial.number}'s end"):
            yield
    except Exception as e:
        if STOP.is_set() and is_transient(e):
            raise Unrecorded(f"stopped while the database was unreachable ({describe(e)}): "
                             f"trial {trial.number} is left to the next run, which fails "
                             "and retries it") from None
        raise


def left_unrecorded(error, cfg, run_ids):
    """Say that the trial was left to the next run; its run, if it was closed FINISHED
    before the wait, is closed KILLED (never FINISHED beside a trial that is not COMPLETE)."""
    logger("sweep").warning(str(error))
    if run_ids:
        close_run(cfg.tracking, run_ids[0], "KILLED", str(error), {"optuna.state": "FAIL"},
                  closing=("FINISHED",))


def interrupted(study, trial, cfg):
    """A trial stopped by Ctrl-C or SIGTERM: FAIL "interrupted", its run closed, retried on
    resume; with the database away, nothing is written (the next run does it)."""
    try:
        tell(study, trial, optuna.trial.TrialState.FAIL, None, links.INTERRUPTED)
    except Exception as e:
        if not is_transient(e):
            raise
        logger("sweep").warning(f"trial {trial.number} interrupted while the database was "
                                f"unreachable ({describe(e)}): the next run fails and "
                                "retries it")
        return
    close_dead_trial(study, trial, links.INTERRUPTED, cfg)


def tell(study, trial, state, values, reason):
    """Record the trial's end; True when the sampler has nothing left to sample (grid)."""
    if reason:
        links.set_end_reason(trial, state, reason)
    try:
        # skip_if_finished: a trial failed by another process meanwhile is left as it is
        if state == optuna.trial.TrialState.COMPLETE:
            study.tell(trial, values, skip_if_finished=True)
        else:
            study.tell(trial, state=state, skip_if_finished=True)
    except RuntimeError as e:
        # GridSampler asks to stop the study (outside optimize()) once its grid is covered;
        # the trial's state is stored by then.
        if "Study.stop" not in str(e):
            raise
        return True
    return False

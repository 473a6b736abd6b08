"""Claiming a WAITING trial (study.ask taking an enqueued one) so that, across a database
outage, exactly one worker runs it.

Optuna's public claim is set_trial_state_values(trial, RUNNING): atomic (WAITING ->
RUNNING under a row lock, False when another worker was first), but when its answer is
lost the claimer cannot tell its own claim from another's. So each claimer first writes
a system attribute of its own on the trial (CLAIM + a fresh token = TRYING), then claims,
then writes what it was told (WON or LOST). A claimer whose answer was lost finds the
trial still WAITING (nothing landed: it claims again) or taken, and then writes UNSURE and
waits for the claimers still TRYING: one that WON has it; if none did, the claim landed
for one of the UNSURE ones, and they all give it to the same one (the least token). One
that never answers (its process died) is waited for at most `patience` seconds.
"""
import time
import uuid

import optuna
from optuna.trial import TrialState

CLAIM = "dnnsweep:claim:"
TRYING, WON, LOST, UNSURE = "trying", "won", "lost", "unsure"


def claims_of(trial):
    """{token: what its claimer knows} of every claim written on the trial."""
    return {k[len(CLAIM):]: v for k, v in trial.system_attrs.items() if k.startswith(CLAIM)}


def claim(rdb, retry, trial_id, patience):
    """True when this process now runs the WAITING trial (False: another does, or the
    trial is finished). rdb: an optuna.storages.RDBStorage; retry: a search.storage.retry
    Retry whose failures are the ones to wait out."""
    token = uuid.uuid4().hex
    try:
        _note(rdb, retry, trial_id, token, TRYING)
        won = retry(rdb.set_trial_state_values, trial_id, TrialState.RUNNING,
                    landed=lambda: _landed(rdb, retry, trial_id, token, patience))
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    try:
        _note(rdb, retry, trial_id, token, WON if won else LOST)
    except optuna.exceptions.UpdateFinishedTrialError:
        pass  # finished meanwhile (failed as stale): nothing to tell
    return won


def _note(rdb, retry, trial_id, token, what):
    retry(rdb.set_trial_system_attr, trial_id, CLAIM + token, what)


def _landed(rdb, retry, trial_id, token, patience):
    """After a claim whose answer was lost: (True, ours?) once known, (False, None) when the
    claim did not land and is to be made again."""
    trial = rdb.get_trial(trial_id)
    if trial.state == TrialState.WAITING:
        return False, None
    if trial.state != TrialState.RUNNING:
        return True, False
    _note(rdb, retry, trial_id, token, UNSURE)
    end = time.monotonic() + patience
    while True:
        claims = claims_of(rdb.get_trial(trial_id))
        if WON in claims.values():
            return True, False
        if TRYING not in claims.values() or time.monotonic() > end:
            return True, min(t for t, v in claims.items() if v == UNSURE) == token
        time.sleep(0.2)

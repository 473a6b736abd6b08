"""Stop when stalled: search.patience=N ends a study once N trials in a row finished
without improving the best value by more than search.min_delta.

Decided from the study's storage, not from one process's memory, so that every worker
of every launcher (on any machine) reaches the same decision. Once reached, the decision
is stored on the study (user attribute "stopped"), so that a trial still in flight that
happens to improve does not restart a study that was declared stalled.
"""
import optuna

from search import links

STOPPED_KEY = "stopped"
_FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
             optuna.trial.TrialState.FAIL)


def stall_length(trials, direction, min_delta=0.0):
    """Trials that finished, in order of completion, since the last one that improved
    the best first objective by more than min_delta. Pruned and failed trials do not
    improve; warm-start trials set the starting best but are not counted."""
    sign = 1.0 if direction == optuna.study.StudyDirection.MINIMIZE else -1.0
    done = sorted((t for t in trials if t.state in _FINISHED and t.datetime_complete),
                  key=lambda t: (t.datetime_complete, t.number))
    best, streak = None, 0
    for t in done:
        value = t.values[0] if t.state == optuna.trial.TrialState.COMPLETE else None
        improved = value is not None and (best is None or sign * (best - value) > min_delta)
        if links.warm_start_source(t):
            if value is not None and (best is None or sign * (best - value) > 0):
                best = value
            continue
        if improved:
            best, streak = value, 0
        else:
            streak += 1
    return streak


def _rule(search):
    return {"by": "patience", "patience": int(search.patience),
            "min_delta": float(search.min_delta)}


def stop_reason(study, search):
    """"patience" when the study is stalled under search.patience / search.min_delta (or
    was found so before, with the same settings), else None. Stores the decision."""
    if not search.get("patience"):
        return None
    rule = _rule(search)
    stored = study.user_attrs.get(STOPPED_KEY)
    if isinstance(stored, dict) and all(stored.get(k) == v for k, v in rule.items()):
        return "patience"
    trials = study.get_trials(deepcopy=False)
    if stall_length(trials, study.directions[0], rule["min_delta"]) >= rule["patience"]:
        study.set_user_attr(STOPPED_KEY, rule)
        return "patience"
    return None


def check_stopping_config(search):
    """ValueError naming the key for a bad search.patience or search.min_delta."""
    patience, min_delta = search.get("patience"), search.get("min_delta", 0.0)
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int)
                                 or patience < 1):
        raise ValueError(f"search.patience must be a positive integer (or null: off), "
                         f"got {patience!r}")
    if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) \
            or not min_delta >= 0 or min_delta == float("inf"):
        raise ValueError(f"search.min_delta must be a finite number >= 0, got {min_delta!r}")

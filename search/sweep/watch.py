"""What a launcher shows while its workers run: the progress line, the line a re-run
resumes with, and the watcher that also recovers the trials of dead workers."""
import time
from collections import Counter

import optuna

from search import links
from search.progress import Progress
from search.study.ranking import ranked
from search.study.study import FINISHED, recover_dead_trials, trained_finished

RECOVER_EVERY = 5.0  # seconds between checks for trials of dead workers


def progress_line(study, metrics):
    """(finished trials that count toward n_trials, the rest of the line), from one read
    of the trials: two reads apart disagree while workers write. A trial replaced by its
    retry shows as retried, not failed; warm-start copies apart."""
    trials = study.get_trials(deepcopy=False)
    replaced = links.replaced(trials)
    S = optuna.trial.TrialState
    tally = Counter("warm-start" if links.warm_start_source(t) else
                    "retried" if t.number in replaced else t.state for t in trials)
    best = ranked(study)
    best_txt = f"best {metrics[0]} {best[0].values[0]:.5g} (#{best[0].number})" if best else "best -"
    extra = "".join(f"  {k} {tally[k]}" for k in ("retried", "warm-start") if tally[k])
    return sum(tally[s] for s in FINISHED), (
        f"{best_txt} | complete {tally[S.COMPLETE]}  pruned {tally[S.PRUNED]}  "
        f"failed {tally[S.FAIL]}  running {tally[S.RUNNING]}{extra}")


def resume_line(study, search):
    """What a re-run goes on with ('resuming at 11/12 ...; 1 interrupted trial retried
    first'), or None for a study with nothing finished yet."""
    trials = study.get_trials(deepcopy=False)
    done = trained_finished(study)
    retries = sum(1 for t in trials if t.state == optuna.trial.TrialState.WAITING
                  and links.retry_of(t) is not None)
    if not done and not retries:
        return None
    return (f"study {study.study_name!r}: resuming at {done}/{search.n_trials} finished trials"
            + (f"; {retries} interrupted trial(s) retried first" if retries else ""))


def watch(study, metrics, total, stop, cfg=None):
    """Print a live progress line until stop is set; every RECOVER_EVERY seconds, fail
    (and retry) the trials of dead workers, so that a killed worker's trial is noticed
    within seconds, not only when a live worker ends its own (long) trial."""
    bar = Progress(total, "trials ", interval=1.0, unit="trials", per_minute=True)
    last_recover = time.monotonic()
    while not stop.wait(1.0):
        try:
            if cfg is not None and time.monotonic() - last_recover >= RECOVER_EVERY:
                last_recover = time.monotonic()
                recover_dead_trials(study, cfg)
            done, text = progress_line(study, metrics)
            bar.update(done, text)
        except Exception:  # noqa: BLE001 - a storage hiccup must not end the sweep
            pass
    done, text = progress_line(study, metrics)
    bar.update(done, text, force=True)
    bar.close()

"""search.timeout covers the whole command: the search, then the confirmation runs and the
refit, then the study's end (verdict, trials.csv, plots, report). The search therefore
ends early enough to leave them the time they are expected to take, worked out again
from the study's storage as its best trial changes, by every worker and by the launcher:

    search end = start + timeout - (confirmation + refit + END_SECONDS
                                    + END_PER_TRIAL x finished trials)

- the refit: the best trial's training seconds, scaled to the best_iteration + 1 passes
  the refit trains (of the passes the trial ran), and by NO_CV_REFIT for a trial that
  trained on the training split only (the refit adds the validation split's examples).
  Under cross-validation the refit trains one model where the trial trained K, so this
  overestimates it; the one exception is the span path of full-batch gd on fewer
  examples than inputs (docs/benchmarks.md), whose folds cost less than one plain fit.
  A refit of N networks (search.refit_ensemble) takes N times one network's share
  (CV_NETWORK of a cross-validated trial's seconds), and at least the trial's seconds;
- search.confirm: each of the top_k best trials' seconds, seeds times;
- END_SECONDS and END_PER_TRIAL for the rest: the report fetches and draws every finished
  trial's curve (measured on digits and breast_cancer: see docs/studies.md).
Before any trial completes there is nothing to scale: the search may run until the
deadline less the end's share.
"""
import time

from omegaconf import OmegaConf

from search import links
from search.study.ranking import best_first

# The refit's run and model, the verdict, trials.csv, plots, report after the refit's training:
# 3.5-4.5 s for 6 digits trials (load 0.6-1.1), 8.6 s for 111 breast_cancer trials (load 4.7):
# about 3.3 s and 0.05 s a finished trial. A flat 10 s left a quarter of a 30 s study unused,
# and a 60 s study of 111 trials ran 66 s.
END_SECONDS = 4.0
END_PER_TRIAL = 0.05
NO_CV_REFIT = 1.25   # all training data against the 80% a trial without folds trains on
# One network on all training data against a 5-fold trial: the folds trained together cost
# 1.6-2.3x one plain fit on 80% of the data (docs/benchmarks.md), so 0.55-0.8. Measured on
# digits (a 5-fold trial of 200 momentum epochs in batches of 32: 3.55 s; each network of
# its refit: 2.74 s) 0.77; the upper end keeps a study within its budget.
CV_NETWORK = 0.8
CHECK_EVERY = 5.0    # seconds between two readings of the study's best trials


def percent_step(i, ceiling):
    """The pruner's step of pass i (0-based) of a trial whose ceiling is `ceiling` passes:
    the percent of its budget done, so that full-batch trials (passes: iterations) and
    mini-batch ones (passes: epochs) report in one unit and meet at the same steps."""
    return min(100, (i + 1) * 100 // ceiling)


def refit_seconds(trial, folds, networks=1):
    """Expected training seconds of the refit of trial (a COMPLETE trial) as an ensemble of
    networks, or 0 when the trial did not record what it took."""
    effort = links.trial_effort(trial)
    if not effort:
        return 0.0
    passes = max(1, effort["passes"])
    best = links.trial_metrics(trial).get("best_iteration")
    share = min(1.0, (best + 1) / passes) if best is not None else 1.0
    scale = max(1.0, networks * CV_NETWORK) if folds else networks * NO_CV_REFIT
    return effort["seconds"] * share * scale


def reserve(trials_best_first, search, finished=0):
    """Seconds the end of a study is expected to take after its search, given its
    complete trials best first and the number of its finished trials."""
    seconds = END_SECONDS + END_PER_TRIAL * finished
    if not trials_best_first:
        return seconds
    top_k = OmegaConf.select(search, "confirm.top_k", default=0) or 0
    seeds = OmegaConf.select(search, "confirm.seeds", default=3)
    for trial in trials_best_first[:top_k]:
        seconds += seeds * (links.trial_effort(trial) or {"seconds": 0.0})["seconds"]
    if search.refit:
        seconds += refit_seconds(trials_best_first[0], OmegaConf.select(search, "cv.folds"),
                                 OmegaConf.select(search, "refit_ensemble", default=1))
    return seconds


class SearchClock:
    """When the search of one invocation ends, given its deadline (time.time() + timeout;
    None: no budget): passed() is True from then on. Reads the study at most every
    CHECK_EVERY seconds."""

    def __init__(self, study, search, deadline):
        self.study, self.search, self.deadline = study, search, deadline
        self._end, self._read = deadline, None

    def end(self):
        if self.deadline is None:
            return None
        now = time.monotonic()
        if self._read is None or now - self._read >= CHECK_EVERY:
            self._read = now
            try:
                trials = self.study.get_trials(deepcopy=False)
                finished = sum(t.state.is_finished() for t in trials)
                self._end = self.deadline - reserve(
                    best_first(trials, self.study.directions[0]), self.search, finished)
            except Exception:  # noqa: BLE001 - a storage hiccup: keep the last reading
                pass
        return self._end

    def passed(self):
        return self.deadline is not None and time.time() >= self.end()

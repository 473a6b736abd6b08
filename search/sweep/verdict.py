"""The verdict of a study: is its best trial better than a model that learns nothing,
scored under the same protocol, beyond the noise of that protocol?

With cross-validation, the best trial and the baseline are scored on the same folds, so
they are compared fold by fold: a one-sided paired t-test on the per-fold differences,
with Nadeau and Bengio's correction for the overlap of the folds' training sets (the
variance of the mean difference is (1/J + n_val/n_train) s^2 instead of s^2/J; the plain
paired t-test over folds finds differences too often). Without folds, the margin is
compared with the bootstrap spread of the best trial's score on the validation split
(a one-sided z test). Both at the 5% level.
"""
import math
from dataclasses import dataclass

from dnn.metrics import SCORES
from search import links
from search.study.ranking import ranked
from search.run.baseline import run_baselines
from search.run.metrics import SELECTION_METRICS, better_direction, score_name
from search.run.train import load_run_data
from search.study.study import as_list
from search.sweep.worker import FOLD_SCORES_KEY

VERDICT_TAG = "dnnsweep.verdict"
BETTER, NOT_BETTER = "better_than_baseline", "not_better_than_baseline"
ALPHA = 0.05


@dataclass
class Verdict:
    metric: str
    direction: str   # minimize or maximize
    best: float      # the best trial's score (mean over its folds)
    baseline: float  # the baseline's score under the same protocol
    margin: float    # how much better the best is (> 0: better, in the metric's units)
    spread: float    # std of the per-fold differences, or the bootstrap std of the score
    p_value: float   # one-sided: the chance of such a margin if the best were no better
    n: int           # folds (with repeats), or validation examples
    test: str        # the test, in words
    trial: int = None
    confirmed: bool = False  # trial is the best confirmed configuration (search.confirm)

    @property
    def better(self):
        return self.margin > 0 and self.p_value < ALPHA

    @property
    def label(self):
        return BETTER if self.better else NOT_BETTER

    def sentence(self):
        """The verdict in one plain sentence with its numbers."""
        who = "the best confirmed trial" if self.confirmed else "the best trial"
        who += f" (#{self.trial})" if self.trial is not None else ""
        word = "better" if self.better else "not better"
        score = SCORES.get(score_name(self.metric))
        meaning = score.baseline_predicts if score else "a model that learns nothing"
        return (f"verdict: {who} is {word} than a model that learns nothing: {self.metric} "
                f"{self.best:.4g} against {self.baseline:.4g} for predicting {meaning} "
                f"(margin {self.margin:+.4g}, one-sided p = {self.p_value:.3g}, {self.test}, "
                f"5% level)")

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__dataclass_fields__} | {"label": self.label}


def _t_sf(t, df):
    from scipy.stats import t as student_t

    return float(student_t.sf(t, df))


def paired_fold_test(metric, direction, scores, baseline_scores, folds):
    """Verdict from per-fold scores of the best trial and of the baseline on the same
    folds (lists in the same fold order); folds is K (n_val/n_train = 1/(K-1))."""
    import numpy as np

    sign = 1.0 if direction == "maximize" else -1.0
    d = sign * (np.asarray(scores, float) - np.asarray(baseline_scores, float))
    J = d.size
    mean, s = float(d.mean()), float(d.std(ddof=1)) if J > 1 else 0.0
    if s == 0.0:
        p = 0.0 if mean > 0 else 1.0
    else:
        se = math.sqrt((1.0 / J + 1.0 / (folds - 1)) * s * s)
        p = _t_sf(mean / se, J - 1)
    return Verdict(metric, direction, float(np.mean(scores)), float(np.mean(baseline_scores)),
                   mean, s, p, J, f"corrected paired t-test over {J} folds")


def single_split_test(metric, direction, score, baseline, spread, n):
    """Verdict from one validation split: the margin against the bootstrap spread of the
    score (one-sided z test)."""
    sign = 1.0 if direction == "maximize" else -1.0
    margin = sign * (score - baseline)
    if not spread or not math.isfinite(spread):
        p = 0.0 if margin > 0 else 1.0
    else:
        p = 0.5 * math.erfc(margin / spread / math.sqrt(2))
    return Verdict(metric, direction, score, baseline, margin, spread or 0.0, p, n,
                   f"bootstrap spread over {n} validation examples")


def evaluate(study, cfg, data=None, trial=None):
    """The study's Verdict on its first metric (None when that metric is not a score, such
    as n_parameters, or no trial completed). trial: the best confirmed trial, when the
    study confirmed its best (default: the best trial). data: the loaded data set (loaded
    from cfg.data when not given)."""

    metric = as_list(cfg.search.metric)[0]
    if metric not in SELECTION_METRICS:
        return None
    confirmed = trial is not None
    if trial is None:
        top = ranked(study)
        if not top:
            return None
        trial = top[0]
    data = data if data is not None else load_run_data(cfg)[0]
    cv = cfg.search.cv
    base = run_baselines(data, cv.folds, cv.repeats, cfg.data.seed)
    direction = better_direction(metric)
    folds = trial.user_attrs.get(FOLD_SCORES_KEY)
    if cv.folds and folds:
        names = sorted(base.folds)
        verdict = paired_fold_test(metric, direction, [folds[f][metric] for f in names],
                                   [base.folds[f][metric] for f in names], cv.folds)
    else:
        metrics = links.trial_metrics(trial)
        verdict = single_split_test(metric, direction, metrics.get(metric, trial.values[0]),
                                    base.values[metric], metrics.get(f"{metric}_std"),
                                    0 if data.Y_val is None else data.Y_val.shape[1])
    verdict.trial, verdict.confirmed = trial.number, confirmed
    return verdict

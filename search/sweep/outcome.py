"""What a finished sweep hands to its caller: counts, best, baselines, verdict, refit."""
from dataclasses import dataclass, field
from typing import Optional

import optuna

from search.study.ranking import ranked

STOPPED_TAG = "dnnsweep.stopped"  # on the parent run: n_trials, timeout, interrupted, ...


@dataclass
class StudyOutcome:
    """The end of one sweep invocation. status is the parent run's (FINISHED, KILLED, or
    None when left RUNNING for another launcher); stopped says why it ended: n_trials
    (the total was reached), timeout (search.timeout ran out), patience (stalled),
    interrupted (Ctrl-C, SIGTERM), running_elsewhere, incomplete (workers ended early),
    submitted (search.launcher.wait=false: the workers run on; submitted says where), or
    nothing_to_run (note says why; nothing was trained)."""

    study: optuna.Study
    metrics: list
    parent_run_id: str
    status: Optional[str]
    stopped: str
    experiment: str
    tracking_uri: str
    browse: str = "dnn-ui"                # how to see the study's runs
    refit: Optional[dict] = None          # {"trial", "run_id", "test_*", "model"}
    report: Optional[str] = None          # where the study's report.html is
    notes: list = field(default_factory=list)       # plots or report skipped, and why
    baselines: dict = field(default_factory=dict)   # "baseline_val_cost": value, ...
    verdict: object = None                          # search.sweep.verdict.Verdict
    confirmed: list = field(default_factory=list)   # search.sweep.confirm.Confirmed
    data_summary: object = None                     # search.run.metrics.DataSummary
    note: Optional[str] = None
    protocol: str = "split"                         # "5 folds", "5 folds x 2 repeats", "split"
    submitted: Optional[str] = None                 # where workers run on without the launcher

    @property
    def interrupted(self):
        return self.stopped == "interrupted"

    @property
    def counts(self):
        """{state name: number of trials}."""
        out = {s.name: 0 for s in optuna.trial.TrialState}
        for t in self.study.get_trials(deepcopy=False):
            out[t.state.name] += 1
        return out

    @property
    def best(self):
        """The best complete trial on the first metric, or None."""

        top = ranked(self.study)
        return top[0] if top else None

    def judgement_lines(self):
        """The class balance of each split, the baseline beside the best, the verdict."""
        lines = []
        summary = self.data_summary
        if summary is not None:
            lines += ["", "class balance of each split:", *("  " + l for l in summary.lines())]
            if summary.shift:
                points, name, train, test = summary.shift
                lines.append(f"note: the class proportions of the training and test data "
                             f"differ by {points:.0f} points ({name}: {train:.0f}% of "
                             f"training, {test:.0f}% of test): accuracy on one says little "
                             "about the other; val_auc and val_balanced_accuracy do not "
                             "depend on them")
        best, metric = self.best, self.metrics[0]
        baseline = self.baselines.get(f"baseline_{metric}")
        if best is not None and baseline is not None:
            lines.append(f"best {metric} {best.values[0]:.5g} (trial {best.number}); baseline "
                         f"{baseline:.5g} (a model that learns nothing, on the same "
                         f"{self.protocol})")
        if self.verdict is not None:
            lines.append(self.verdict.sentence())
        return lines

    def confirmation_lines(self):
        """Each confirmed configuration's mean and 95% interval over its new seeds."""
        if not self.confirmed:
            return []
        metric = self.metrics[0]
        lines = ["", f"confirmation: the {len(self.confirmed)} best configuration(s), each "
                 f"re-trained with new seeds on the same {self.protocol}:",
                 f"  {'trial':>6}  {'mean ' + metric:>24}  {'95% interval':>20}  seeds"]
        for c in self.confirmed:
            low, high = c.interval
            word = "best" if c.winner else "tied with the best" if c.tied else "worse"
            lines.append(f"  {c.trial:>6}  {c.mean:24.5g}  "
                         f"{f'[{low:.4g}, {high:.4g}]':>20}  {len(c.scores):>5}  {word}")
        lines.append(f"the refit takes trial {self.confirmed[0].trial}: the best confirmed mean")
        return lines

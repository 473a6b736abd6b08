"""What a finished sweep hands to its caller: counts, best, baselines, verdict, refit."""
from dataclasses import dataclass, field
from typing import Optional

import optuna

STOPPED_TAG = "dnnsweep.stopped"  # on the parent run: n_trials, timeout, interrupted, ...


@dataclass
class StudyOutcome:
    """The end of one sweep invocation. status is the parent run's (FINISHED, KILLED, or
    None when left RUNNING for another launcher); stopped says why it ended: n_trials
    (the total was reached), timeout (search.timeout ran out), patience (stalled),
    interrupted (Ctrl-C, SIGTERM), running_elsewhere, incomplete (workers ended early), or
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
    verdict: object = None                          # search.study.verdict.Verdict
    confirmed: list = field(default_factory=list)   # search.study.confirm.Confirmed
    data_summary: object = None                     # search.run.metrics.DataSummary
    note: Optional[str] = None

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
        from search.tracking.report import ranked

        top = ranked(self.study)
        return top[0] if top else None

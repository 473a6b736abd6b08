"""The lines dnn-sweep prints at the end of a study, from its StudyOutcome."""
from search.secrets import mask
from search.tracking import report


def summary_lines(outcome, cfg, dims, base_overrides):
    """The best trials, the baseline beside the best, the verdict, the confirmation, the
    refit and where to browse: what a user reads once the study ends."""
    lines = report.summary_table(outcome.study, outcome.metrics, dims, base_overrides,
                                 cfg.search.top_k, cfg.search.cv)
    lines += judgement_lines(outcome)
    if outcome.stopped == "timeout":
        lines.append(f"stopped at the time budget (search.timeout={cfg.search.timeout} s) "
                     f"after {sum(outcome.counts[s] for s in ('COMPLETE', 'PRUNED', 'FAIL'))} "
                     f"of {cfg.search.n_trials} trials; run the same command again to go on")
    if outcome.stopped == "patience":
        lines.append(f"stopped: {cfg.search.patience} trials in a row did not improve the best "
                     f"{outcome.metrics[0]} by more than {cfg.search.min_delta}")
    lines += confirmation_lines(outcome, cfg)
    if outcome.refit:
        refit = outcome.refit
        scores = "  ".join(
            f"{k}={v:.4f}" + (f" (baseline {outcome.baselines[f'baseline_{k}']:.4f})"
                               if f"baseline_{k}" in outcome.baselines else "")
            for k, v in refit.items() if k.startswith("test_") and not k.endswith("_std"))
        lines.append(f"refit of trial {refit['trial']} on all training data: MLflow run "
                     f"{refit['run_id']}  {scores or '(the data has no test split)'}")
    if outcome.refit and outcome.refit.get("model"):
        lines.append(f"registered model: {outcome.refit['model']}")
    if outcome.report:
        lines.append(f"report: {outcome.report}")
    lines.append(f"browse: {outcome.browse}  (experiment {outcome.experiment!r} in "
                 f"{outcome.tracking_uri})")
    return [mask(line) for line in lines]


def judgement_lines(outcome):
    """The data's class balance, the baseline beside the best, and the verdict."""
    lines = []
    summary = outcome.data_summary
    if summary is not None:
        lines += ["", "class balance of each split:", *("  " + l for l in summary.lines())]
        if summary.shift:
            points, name, train, test = summary.shift
            lines.append(f"note: the class proportions of the training and test data differ "
                         f"by {points:.0f} points ({name}: {train:.0f}% of training, "
                         f"{test:.0f}% of test): accuracy on one says little about the other; "
                         "val_auc and val_balanced_accuracy do not depend on them")
    best, metric = outcome.best, outcome.metrics[0]
    baseline = outcome.baselines.get(f"baseline_{metric}")
    if best is not None and baseline is not None:
        lines.append(f"best {metric} {best.values[0]:.5g} (trial {best.number}); baseline "
                     f"{baseline:.5g} (a model that learns nothing, same "
                     f"{'folds' if outcome.verdict and 'folds' in outcome.verdict.test else 'split'})")
    if outcome.verdict is not None:
        lines.append(outcome.verdict.sentence())
    return lines


def confirmation_lines(outcome, cfg):
    """Each confirmed configuration's mean and 95% interval over its new seeds."""
    if not outcome.confirmed:
        return []
    metric = outcome.metrics[0]
    lines = ["", f"confirmation: the {len(outcome.confirmed)} best configuration(s), each "
             f"re-trained with {cfg.search.confirm.seeds} new seeds on the same "
             f"{'folds' if cfg.search.cv.folds else 'split'}:",
             f"  {'trial':>6}  {'mean ' + metric:>20}  {'95% interval':>20}  runs"]
    for c in outcome.confirmed:
        low, high = c.interval
        word = "best" if c.winner else "tied with the best" if c.tied else "worse"
        lines.append(f"  {c.trial:>6}  {c.mean:20.5g}  {f'[{low:.4g}, {high:.4g}]':>20}  "
                     f"{len(c.scores)}  {word}")
    lines.append(f"the refit takes trial {outcome.confirmed[0].trial}: the best confirmed mean")
    return lines

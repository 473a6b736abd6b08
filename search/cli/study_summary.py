"""The lines dnn-sweep prints at the end of a study, from its StudyOutcome."""
from search.config.run import trial_overrides
from search.report import tables
from search.secrets import mask
from search.tracking.client import tracking_uri
from search.tracking.model import serve_command


def summary_lines(outcome, cfg, dims, base_overrides):
    """The best trials, the baseline beside the best, the verdict, the confirmation, the
    refit and where to browse: what a user reads once the study ends."""
    lines = tables.summary_table(outcome.study, outcome.metrics, dims, base_overrides,
                                 cfg.search.top_k, cfg.search.cv, trial_overrides(cfg))
    lines += outcome.judgement_lines()
    if outcome.stopped == "timeout":
        lines.append(f"stopped at the time budget (search.timeout={cfg.search.timeout} s) "
                     f"after {sum(outcome.counts[s] for s in ('COMPLETE', 'PRUNED', 'FAIL'))} "
                     f"of {cfg.search.n_trials} trials; run the same command again to go on")
    if outcome.stopped == "patience":
        lines.append(f"stopped: {cfg.search.patience} trials in a row did not improve the best "
                     f"{outcome.metrics[0]} by more than {cfg.search.min_delta}")
    lines += outcome.confirmation_lines()
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
        command = serve_command(tracking_uri(cfg.tracking), outcome.refit["model"])
        lines.append(f"serve it: {command}")
    if outcome.report:
        lines.append(f"report: {outcome.report}")
    lines.append(f"browse: {outcome.browse}  (experiment {outcome.experiment!r} in "
                 f"{outcome.tracking_uri})")
    return [mask(line) for line in lines]

"""Confirm the winner: after the study, the K best configurations are each re-trained with S
new seeds under the same protocol (same split or same folds), as child runs of the study
tagged confirm=true. They are not Optuna trials: the study's count and its sampler never
see them. Each configuration gets a mean and a 95% interval over its seeds; those whose
mean does not differ from the best one's (Welch's t-test, 5%) are tied with it.

The scores are stored on the study (user attribute "confirmed"), so that a launcher that
runs again does not re-train a configuration and seed it already confirmed.
"""
import math
from functools import partial
from dataclasses import dataclass, field

from search import links
from search.study.ranking import ranked
from search.run.train import train_run
from search.storage.locks import ask_lock
from search.study import space as space_mod
from search.study.study import as_list, base_run_config

CONFIRMED_KEY = "confirmed"  # study user attribute: {trial number: {seed: [score, run id]}}
SEED_STRIDE = 1000           # new seeds: train.seed + 1000, + 2000, ...: unused by the trials
ALPHA = 0.05


@dataclass
class Confirmed:
    trial: int
    scores: list                       # the metric with each new seed
    run_ids: list = field(default_factory=list)
    tied: bool = False                 # its mean does not differ from the best's
    winner: bool = False               # the best mean: the refit's configuration

    @property
    def mean(self):
        return float(sum(self.scores) / len(self.scores)) if self.scores else float("nan")

    @property
    def interval(self):
        """The 95% interval of the mean over seeds (Student's t)."""
        from scipy.stats import t

        n = len(self.scores)
        if n < 2:
            return (self.mean, self.mean)
        half = t.ppf(0.975, n - 1) * _std(self.scores) / math.sqrt(n)
        return (self.mean - half, self.mean + half)


def _std(values):
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def confirm_settings(cfg):
    """(top_k, seeds) of search.confirm; top_k 0: off."""
    from omegaconf import OmegaConf

    return (OmegaConf.select(cfg, "search.confirm.top_k", default=0) or 0,
            OmegaConf.select(cfg, "search.confirm.seeds", default=3))


def new_seeds(seed, count):
    return [seed + SEED_STRIDE * (j + 1) for j in range(count)]


def confirm(cfg, study, dims, parent_run_id, base_overrides=(), say=None):
    """Re-train the search.confirm.top_k best configurations with search.confirm.seeds new
    seeds each; returns [Confirmed], the winner first ([] when confirmation is off), or
    None when another launcher of the study is running them (it refits the winner too)."""
    top_k, n_seeds = confirm_settings(cfg)
    top = ranked(study)[:top_k]
    if not top:
        return []
    seeds = new_seeds(base_run_config(cfg).train.seed, n_seeds)
    done = _stored(study)
    if all(str(s) in done.get(t.number, {}) for t in top for s in seeds):
        return _results(top, seeds, done, study)
    elsewhere = links.claim_confirmation(study, ask_lock(cfg.search.storage))
    if elsewhere:
        if say:
            say(f"confirm: run by {elsewhere}, which refits the winner")
        return None
    try:
        done = _stored(study)  # as it is now that this launcher holds the claim
        metric = as_list(cfg.search.metric)[0]
        for trial in top:
            values = space_mod.values_from_params(trial.params, dims)
            runs = done.setdefault(trial.number, {})
            for seed in [s for s in seeds if str(s) not in runs]:
                if say:
                    say(f"confirm: trial {trial.number} with seed {seed}")
                runs[str(seed)] = _train(cfg, study, trial, values, seed, metric,
                                         parent_run_id, base_overrides)
                study.set_user_attr(CONFIRMED_KEY, {str(k): v for k, v in done.items()})
    finally:
        links.release_confirmation(study, ask_lock(cfg.search.storage))
    return _results(top, seeds, done, study)


def _stored(study):
    """{trial number: {seed: [score, run id]}} of the confirmation runs stored so far."""
    return {int(k): v for k, v in study.user_attrs.get(CONFIRMED_KEY, {}).items()}


def _results(top, seeds, done, study):
    results = []
    for trial in top:
        kept = [done[trial.number][str(s)] for s in seeds
                if done[trial.number][str(s)][0] is not None]
        results.append(Confirmed(trial.number, [s for s, _ in kept], [r for _, r in kept]))
    return rank(results, study.directions[0].name.lower())


def _train(cfg, study, trial, values, seed, metric, parent_run_id, base_overrides):
    """[score, run id] of one confirmation run ([None, run id] when it failed)."""
    run_cfg = space_mod.apply_values(base_run_config(cfg), values)
    run_cfg.train.seed = seed
    overrides = [*base_overrides, *space_mod.as_overrides(values), f"train.seed={seed}"]
    tags = {"confirm": "true", "optuna.study": study.study_name,
            "confirm.trial_number": trial.number}
    run_ids = []
    try:
        with links.run_under_way(study, partial(ask_lock, cfg.search.storage)) as under_way:
            result = train_run(run_cfg, overrides, parent_run_id=parent_run_id, tags=tags,
                               run_name=f"confirm-trial-{trial.number}-seed-{seed}",
                               progress=True,
                               on_start=lambda run_id: (run_ids.append(run_id), under_way(run_id)))
    except KeyboardInterrupt:
        raise
    except Exception:  # noqa: BLE001 - a diverging seed: its run is FAILED with the reason
        return [None, run_ids[0] if run_ids else None]
    return [float(result.metrics[metric]), result.run_id]


def rank(results, direction):
    """Sort by mean (best first), mark the winner and those tied with it."""
    sign = -1.0 if direction == "maximize" else 1.0
    results = sorted([r for r in results if r.scores], key=lambda r: sign * r.mean)
    if not results:
        return []
    best = results[0]
    best.winner = best.tied = True
    for r in results[1:]:
        r.tied = not differs(best.scores, r.scores)
    return results


def differs(a, b):
    """True when the means of a and b differ at 5% (Welch's two-sided t-test)."""
    from scipy.stats import ttest_ind

    if len(a) < 2 or len(b) < 2:
        return False
    if _std(a) == 0 and _std(b) == 0:
        return sum(a) / len(a) != sum(b) / len(b)
    return bool(ttest_ind(a, b, equal_var=False).pvalue < ALPHA)

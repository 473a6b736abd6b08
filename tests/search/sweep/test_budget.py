"""search.timeout covers the search and the end of the study: the search ends early enough
to leave the refit (and the confirmation) the time the best trial says they take."""
import time

import optuna
import pytest
from omegaconf import OmegaConf

from search import links
from search.study.ranking import ranked
from search.sweep.budget import (
    CV_NETWORK,
    END_PER_TRIAL,
    END_SECONDS,
    NO_CV_REFIT,
    SearchClock,
    percent_step,
    refit_seconds,
    reserve,
)

LR = optuna.distributions.FloatDistribution(1e-3, 1.0, log=True)


def search(refit=True, folds=None, top_k=0, seeds=2):
    return OmegaConf.create({"refit": refit, "cv": {"folds": folds, "repeats": 1},
                             "confirm": {"top_k": top_k, "seeds": seeds}})


def study_with(*trials):
    """An in-memory study of COMPLETE trials: (value, seconds, passes, best_iteration)."""
    study = optuna.create_study()
    for value, seconds, passes, best in trials:
        attrs = {links.EFFORT: {"seconds": seconds, "passes": passes}}
        if best is not None:
            attrs[links.METRICS] = {"best_iteration": float(best)}
        study.add_trial(optuna.trial.create_trial(
            params={"train.learning_rate": 0.1}, distributions={"train.learning_rate": LR},
            value=value, user_attrs=attrs))
    return study


def test_the_refit_takes_the_best_trials_seconds_scaled_to_its_best_iteration():
    best = ranked(study_with((0.3, 40.0, 100, 49)))[0]
    assert refit_seconds(best, folds=5) == pytest.approx(20.0)
    # without folds the refit also trains on the validation split's examples
    assert refit_seconds(best, folds=None) == pytest.approx(20.0 * NO_CV_REFIT)


def test_a_refit_of_several_networks_takes_each_one_networks_share():
    best = ranked(study_with((0.3, 40.0, 100, 49)))[0]
    # under 5 folds one network costs CV_NETWORK of the trial (20 s at its best iteration)
    assert refit_seconds(best, folds=5, networks=5) == pytest.approx(20.0 * 5 * CV_NETWORK)
    assert refit_seconds(best, folds=5, networks=1) == pytest.approx(20.0)  # at least the trial
    assert refit_seconds(best, folds=None, networks=3) == pytest.approx(20.0 * 3 * NO_CV_REFIT)


def test_the_reserve_counts_the_refit_the_confirmation_and_the_end():
    trials = ranked(study_with((0.2, 10.0, 10, None), (0.5, 30.0, 10, 9), (0.9, 99.0, 10, 9)))
    assert reserve([], search()) == END_SECONDS  # nothing to scale yet
    assert reserve(trials, search(folds=5)) == pytest.approx(END_SECONDS + 10.0)
    assert reserve(trials, search(refit=False)) == END_SECONDS
    # search.confirm: the top 2 trials, 2 seeds each, then the refit of the best
    assert reserve(trials, search(folds=5, top_k=2, seeds=2)) == pytest.approx(
        END_SECONDS + 2 * (10.0 + 30.0) + 10.0)


def test_the_search_ends_before_the_deadline_by_the_reserve():
    study = study_with((0.2, 30.0, 10, 9))
    deadline = time.time() + 60.0
    clock = SearchClock(study, search(folds=5), deadline)
    assert clock.end() == pytest.approx(deadline - END_SECONDS - END_PER_TRIAL - 30.0)
    assert not clock.passed()
    assert SearchClock(study, search(folds=5), time.time() + 30.0).passed()
    assert not SearchClock(study, search(), None).passed()  # no budget


def test_the_ends_share_grows_with_the_finished_trials_pruned_ones_too():
    """The report fetches and draws every finished trial's curve: a 60 s breast_cancer study
    of 111 trials (68 pruned) ran 66 s with a flat reserve."""
    study = study_with((0.2, 0.0, 10, 9))
    for _ in range(110):
        study.add_trial(optuna.trial.create_trial(
            params={"train.learning_rate": 0.1}, distributions={"train.learning_rate": LR},
            state=optuna.trial.TrialState.PRUNED, intermediate_values={10: 0.5}))
    assert reserve(ranked(study), search(refit=False), finished=111) == pytest.approx(
        END_SECONDS + 111 * END_PER_TRIAL)
    deadline = time.time() + 60.0
    clock = SearchClock(study, search(refit=False), deadline)
    assert clock.end() == pytest.approx(deadline - END_SECONDS - 111 * END_PER_TRIAL)


def test_pruner_steps_are_the_percent_of_a_trials_budget_in_either_unit():
    # 1,500 full-batch iterations and 200 mini-batch epochs meet at the same steps
    assert [percent_step(i, 1500) for i in (0, 149, 749, 1499)] == [0, 10, 50, 100]
    assert [percent_step(i, 200) for i in (0, 19, 99, 199)] == [0, 10, 50, 100]

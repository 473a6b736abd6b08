"""Complete trials, best first: one ranking for the tables, the narrowing and the sweep's end."""
import optuna
import pytest

from search.report import tables
from search.study import narrow, ranking

S = optuna.trial.TrialState
D = optuna.study.StudyDirection


def trials():
    """Values 0.3, 0.1, -, 0.2 (a FAIL and a PRUNED trial in between)."""
    out = [optuna.trial.create_trial(value=0.3), optuna.trial.create_trial(value=0.1),
           optuna.trial.create_trial(state=S.FAIL),
           optuna.trial.create_trial(state=S.PRUNED, intermediate_values={1: 0.0}),
           optuna.trial.create_trial(value=0.2)]
    for i, t in enumerate(out):
        t.number = i
    return out


@pytest.mark.parametrize("direction, order", [(D.MINIMIZE, [1, 4, 0]), (D.MAXIMIZE, [0, 4, 1])])
def test_complete_trials_only_best_first_in_the_study_direction(direction, order):
    assert [t.number for t in ranking.best_first(trials(), direction)] == order


def test_a_study_is_ranked_on_its_first_objective(tmp_path):
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.add_trials([optuna.trial.create_trial(values=v) for v in ([0.5, 9.0], [0.9, 1.0],
                                                                     [0.7, 0.0])])
    study.add_trial(optuna.trial.create_trial(state=S.FAIL))
    assert [t.values[0] for t in ranking.ranked(study)] == [0.9, 0.7, 0.5]


def test_the_tables_and_the_narrowing_rank_with_it():
    assert tables.ranked is ranking.ranked
    top = narrow.top_trials(trials(), D.MINIMIZE, 0.1)
    assert [t.number for t in top] == [1, 4, 0]

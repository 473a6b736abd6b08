"""Complete trials, best first: the one ranking every table, the narrowing and the end of
a study use."""
import optuna


def best_first(trials, direction):
    """The COMPLETE trials among trials, best first on the first objective (direction: its
    StudyDirection); trials of any other state are left out."""
    sign = 1 if direction == optuna.study.StudyDirection.MINIMIZE else -1
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    return sorted(done, key=lambda t: sign * t.values[0])


def ranked(study):
    """The study's complete trials, best first on its first objective."""
    return best_first(study.get_trials(deepcopy=False), study.directions[0])

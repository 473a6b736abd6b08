"""search/storage/trial_cache.py on a real SQLite database: a process that keeps a study's
finished trials reads the same study as a plain RDBStorage reading it whole, while another
storage (another worker) adds and finishes trials between its reads. The cache is tested
from its first finished trial on (small=0); a sweep's storage keeps it past SMALL."""
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from search.storage.rdb import RetryingRDBStorage
from search.storage.trial_cache import WHOLE, FinishedTrials

X = FloatDistribution(0.0, 1.0)


def view(trials):
    return [(t.number, t.state, t.params, t.values, t.user_attrs) for t in trials]


class Cached:
    """A reader of one RDBStorage through a FinishedTrials cache of its own."""

    def __init__(self, url):
        self.rdb, self.cache = optuna.storages.RDBStorage(url), FinishedTrials(small=0)

    def get_all_trials(self, study_id, states=None):
        trials = self.cache.read(self.rdb, study_id)
        return [t for t in trials if states is None or t.state in states]


@pytest.fixture
def stores(tmp_path):
    """(the cached reader, a plain RDBStorage writing as another worker, the study id)."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    other = optuna.storages.RDBStorage(url)
    study_id = other.create_new_study([optuna.study.StudyDirection.MINIMIZE], "cache")
    cached = Cached(url)
    yield cached, other, study_id
    cached.rdb.engine.dispose()
    other.engine.dispose()


def add(storage, study_id, count, state=TrialState.COMPLETE):
    study = optuna.load_study(study_name="cache", storage=storage)
    for i in range(count):
        kwargs = {"value": i / 10} if state == TrialState.COMPLETE else {}
        study.add_trial(optuna.trial.create_trial(params={"x": i / (count + 1)},
                                                  distributions={"x": X}, state=state,
                                                  **kwargs))


def same(cached, other, study_id):
    assert view(cached.get_all_trials(study_id)) == view(other.get_all_trials(study_id))


def test_reads_follow_another_workers_trials(stores):
    cached, other, study_id = stores
    same(cached, other, study_id)  # an empty study
    add(other, study_id, 3)
    add(other, study_id, 2, TrialState.RUNNING)
    same(cached, other, study_id)
    running = other.get_all_trials(study_id, states=(TrialState.RUNNING,))
    other.set_trial_state_values(running[0]._trial_id, TrialState.COMPLETE, [0.5])
    other.set_trial_user_attr(running[1]._trial_id, "owner", "w1")
    add(other, study_id, 1)  # created and finished between two reads
    same(cached, other, study_id)
    other.set_trial_state_values(running[1]._trial_id, TrialState.FAIL)
    same(cached, other, study_id)
    assert len(cached.get_all_trials(study_id, states=(TrialState.COMPLETE,))) == 5


@pytest.mark.slow
def test_many_new_trials_since_the_last_read_are_read_whole(stores):
    cached, other, study_id = stores
    add(other, study_id, WHOLE)
    same(cached, other, study_id)
    add(other, study_id, 3)  # more than 1/WHOLE of the study: read whole
    add(other, study_id, 1, TrialState.WAITING)
    same(cached, other, study_id)
    add(other, study_id, 1)  # read by its number
    same(cached, other, study_id)


def test_a_trial_asked_and_told_through_the_retrying_storage(stores, tmp_path):
    _, other, study_id = stores
    add(other, study_id, 4)
    cached = RetryingRDBStorage(f"sqlite:///{tmp_path / 'study.db'}")
    study = optuna.load_study(study_name="cache", storage=cached,
                              sampler=optuna.samplers.TPESampler(n_startup_trials=2, seed=0))
    trial = study.ask()
    trial.suggest_float("x", 0.0, 1.0)
    study.tell(trial, 0.25)
    same(cached, other, study_id)
    assert [t.state for t in study.get_trials()] == [TrialState.COMPLETE] * 5
    assert cached.get_n_trials(study_id) == 5
    cached.close()

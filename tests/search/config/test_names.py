"""The names MLflow and Optuna store, checked with the config: the registry's own rules
(checked against a real registry), and the lengths of MLflow's database columns."""
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from search.config.names import EXPERIMENT_NAME, MODEL_NAME, STUDY_NAME

NAMES = ["cats", "planar-sweep", "a.b", "with space", "x" * 256, "a/b", "a:b", ".", "..",
         "...x", "a/../b", "/abs", "dir/"]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return MlflowClient(f"sqlite:///{tmp_path_factory.mktemp('registry')}/mlflow.db")


def accepted(check, key, value):
    try:
        check(key, value)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", NAMES)
def test_a_model_name_passes_exactly_when_the_registry_takes_it(name, registry):
    try:
        registry.create_registered_model(name)
        taken = True
    except MlflowException:
        taken = False
    assert accepted(MODEL_NAME.check, "tracking.register", name) == taken


def test_names_longer_than_the_stores_columns_are_refused_with_the_limit():
    assert accepted(MODEL_NAME.check, "tracking.register", "m" * 256)
    with pytest.raises(ValueError, match=r"tracking.register='m{40}'\.\.\. is 257 characters "
                                          r"long: MLflow's model registry holds at most 256"):
        MODEL_NAME.check("tracking.register", "m" * 257)
    assert accepted(STUDY_NAME.check, "search.study_name", "s" * 250)
    with pytest.raises(ValueError, match="search.study_name=.* is 300 characters long: a "
                                          r"study name \(it names the study's MLflow parent "
                                          r"run\) holds at most 250"):
        STUDY_NAME.check("search.study_name", "s" * 300)
    assert not accepted(EXPERIMENT_NAME.check, "tracking.experiment", "e" * 257)
    assert accepted(MODEL_NAME.check, "search.register", None)
    assert not accepted(STUDY_NAME.check, "search.study_name", None)

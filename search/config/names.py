"""The names that MLflow and Optuna store, checked with the config: a name a store would
refuse fails in one line before anything is trained, not after. Rules as in dnn.checks
(check(key, value) raises ValueError), applied by search.config.rules.check_rules.

- A registered model name (MLflow's model registry validation): not empty, no '/' or ':',
  and a name that stays itself as a path (posixpath.normpath leaves it alone; not '.', not
  starting with '..' or '/'); its database column holds 256 characters.
- An experiment name: MLflow's tracking database holds 256 characters (experiments.name).
- A study name: it names the study's parent run, and MLflow's database holds 250 characters
  of a run name (runs.name); Optuna's RDB storage holds 512 (studies.study_name).

SQLite does not enforce column lengths; PostgreSQL and MySQL do, so a name that works on a
laptop would fail on a shared server: the limits are checked on every store.
"""
import posixpath
from dataclasses import dataclass

from search.config.rules import Text

MODEL_NAME_LENGTH = 256       # mlflow registered_models.name
EXPERIMENT_NAME_LENGTH = 256  # mlflow experiments.name
RUN_NAME_LENGTH = 250         # mlflow runs.name (a study's parent run is named after it)


def _too_long(key, value, limit, what):
    if len(value) > limit:
        raise ValueError(f"{key}={value[:40]!r}... is {len(value)} characters long: {what} "
                          f"holds at most {limit}")


@dataclass(frozen=True)
class Name:
    """A non-empty string of at most `limit` characters; `what` says who stores it."""
    limit: int
    what: str
    optional: bool = False

    def check(self, key, value):
        Text(self.optional).check(key, value)
        if value is not None:
            _too_long(key, value, self.limit, self.what)


@dataclass(frozen=True)
class ModelName:
    """A name MLflow's model registry accepts (null: no registration when optional)."""
    optional: bool = True

    def check(self, key, value):
        Text(self.optional).check(key, value)
        if value is None:
            return
        allowed = ("a registered model name has no '/' or ':', and is not a path that "
                   "resolves to another name")
        if any(c in value for c in "/:"):
            raise ValueError(f"{key}={value!r}: {allowed}")
        norm = posixpath.normpath(value)
        if norm != value or norm == "." or norm.startswith(("..", "/")):
            raise ValueError(f"{key}={value!r}: {allowed} (this one resolves to {norm!r})")
        _too_long(key, value, MODEL_NAME_LENGTH, "MLflow's model registry")


MODEL_NAME = ModelName()
EXPERIMENT_NAME = Name(EXPERIMENT_NAME_LENGTH, "an MLflow experiment name")
STUDY_NAME = Name(RUN_NAME_LENGTH, "a study name (it names the study's MLflow parent run)")

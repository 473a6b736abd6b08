"""The `tracking` group: where runs are recorded. The store is tracking.uri when given (on
the command line or in a config), else MLFLOW_TRACKING_URI when set, else the local store:
an explicit setting beats the environment, which beats the default."""
import os
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from omegaconf import OmegaConf

from search.config.errors import ConfigError
from search.config.names import EXPERIMENT_NAME, MODEL_NAME
from search.config.rules import Flag, Integer, Positive, Text, check_rules
from search.secrets import mask


LOCAL_STORE = "sqlite:///mlruns/mlflow.db"  # in the working directory
ENV = "MLFLOW_TRACKING_URI"


@dataclass
class TrackingSchema:
    uri: Optional[str] = None   # null: $MLFLOW_TRACKING_URI when set, else LOCAL_STORE
    artifact_root: Optional[str] = "mlruns/artifacts"  # used only for the local sqlite store
    experiment: str = "dnnsweep"
    log_every: int = 1          # log train_cost every k-th iteration (thins very long curves)
    flush_seconds: float = 5.0  # send buffered metrics at least this often: live curves
    history_points: Optional[int] = None  # keep about this many points of each metric in
    #                             MLflow's history, evenly spaced, and its last; the whole curves
    #                             go into the run's history.npz (null: every point in MLflow)
    log_model: bool = True      # log an MLflow pyfunc model with the trained parameters
    plot: bool = True           # a cost_curve.png per run (a study's trials: off, the study
    #                             report draws every trial's curve on one figure)
    register: Optional[str] = None  # a registered model name: each run's model becomes a new
    #                                 version of it and the alias "champion" moves to it


RULES = {"uri": Text(optional=True), "artifact_root": Text(optional=True),
         "experiment": EXPERIMENT_NAME,
         "log_every": Integer(), "flush_seconds": Positive(high=86400), "log_model": Flag(),
         "history_points": Integer(2, 10**6, optional=True),
         "plot": Flag(), "register": MODEL_NAME}


# The stores MLflow can track to (its tracking-store registry): a plain path is a file store.
SCHEMES = ("", "file", "sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks",
           "databricks-uc", "uc")


def check_uri(key, uri):
    """ConfigError unless uri names a kind of store MLflow knows; the message masks any
    password in it."""

    scheme = urlsplit(uri).scheme.split("+", 1)[0].lower() if "://" in uri else ""
    if scheme not in SCHEMES:
        raise ConfigError(f"{key}={mask(uri)!r}: unknown store scheme {scheme!r}; allowed: "
                          "sqlite:///path, postgresql://..., mysql://..., http(s)://server, "
                          "a file path")


def store_uri(tracking):
    """The store a tracking group names: tracking.uri, else MLFLOW_TRACKING_URI, else the
    local store (an empty variable counts as unset)."""
    return tracking.uri or os.environ.get(ENV) or LOCAL_STORE


def check_store(uri, key):
    """check_uri on the store given as `key`, or on MLFLOW_TRACKING_URI when none is."""
    if uri:
        check_uri(key, uri)
    elif os.environ.get(ENV):
        check_uri(ENV, os.environ[ENV])


def check_tracking(tracking):
    """The group's ranges, and the store MLflow will use."""
    tracking = dict(tracking) if OmegaConf.is_config(tracking) else tracking
    check_rules(tracking, RULES, "tracking")
    check_store(tracking["uri"], "tracking.uri")


def default_tracking(uri=None, key="--tracking-uri"):
    """The default tracking group, with uri from the argument (a command's option `key`)
    when given, else as store_uri says: for commands that are not Hydra apps. ConfigError
    for a store scheme MLflow does not know."""
    check_store(uri, key)
    tracking = OmegaConf.structured(TrackingSchema)
    tracking.uri = uri
    tracking.uri = store_uri(tracking)
    return tracking

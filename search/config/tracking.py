"""The `tracking` group: where runs are recorded (MLFLOW_TRACKING_URI, when set, wins)."""
import os
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from omegaconf import OmegaConf

from search.config.errors import ConfigError
from search.config.rules import Flag, Integer, Positive, Text, check_rules
from search.secrets import mask


@dataclass
class TrackingSchema:
    uri: str = "sqlite:///mlruns/mlflow.db"
    artifact_root: Optional[str] = "mlruns/artifacts"  # used only for the local sqlite store
    experiment: str = "dnnsweep"
    log_every: int = 1          # log train_cost every k-th iteration (thins very long curves)
    flush_seconds: float = 5.0  # send buffered metrics at least this often: live curves
    log_model: bool = True      # log an MLflow pyfunc model with the trained parameters
    register: Optional[str] = None  # a registered model name: each run's model becomes a new
    #                                 version of it and the alias "champion" moves to it


RULES = {"uri": Text(), "artifact_root": Text(optional=True), "experiment": Text(),
         "log_every": Integer(), "flush_seconds": Positive(high=86400), "log_model": Flag(),
         "register": Text(optional=True)}


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


def check_tracking(tracking):
    """The group's ranges, and the store MLflow will use (MLFLOW_TRACKING_URI wins)."""
    tracking = dict(tracking) if OmegaConf.is_config(tracking) else tracking
    check_rules(tracking, RULES, "tracking")
    check_uri("tracking.uri", tracking["uri"])
    if os.environ.get("MLFLOW_TRACKING_URI"):
        check_uri("MLFLOW_TRACKING_URI", os.environ["MLFLOW_TRACKING_URI"])


def default_tracking(uri=None):
    """The default tracking group, with uri from the argument or the environment
    (MLFLOW_TRACKING_URI) when given: for commands that are not Hydra apps. ConfigError
    for a store scheme MLflow does not know."""
    tracking = OmegaConf.structured(TrackingSchema)
    if uri:
        check_uri("--tracking-uri", uri)
    elif os.environ.get("MLFLOW_TRACKING_URI"):
        check_uri("MLFLOW_TRACKING_URI", os.environ["MLFLOW_TRACKING_URI"])
    tracking.uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or tracking.uri
    return tracking

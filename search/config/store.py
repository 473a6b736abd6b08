"""Each group's schema registered with Hydra's ConfigStore as the base its YAML files extend:
types are checked while Hydra composes, and a YAML file carries only what differs."""
from hydra.core.config_store import ConfigStore

from dnn.data.settings import (
    CatSettings,
    CirclesSettings,
    GeneratedSettings,
    NpzSettings,
    TableSettings,
)
from search.config.cv import CVSchema
from search.config.model import ModelSchema
from search.config.search import SearchSchema
from search.config.tracking import TrackingSchema
from search.config.train import TrainSchema

DATA_BASES = {"base_generated": GeneratedSettings, "base_circles": CirclesSettings,
              "base_table": TableSettings, "base_cat": CatSettings, "base_npz": NpzSettings}


def register():
    """Idempotent: ConfigStore keeps the last node stored under a name."""
    cs = ConfigStore.instance()
    for name, schema in DATA_BASES.items():
        cs.store(group="data", name=name, node=schema)
    cs.store(group="model", name="default", node=ModelSchema)
    cs.store(group="train", name="default", node=TrainSchema)
    cs.store(group="tracking", name="local", node=TrackingSchema)
    cs.store(group="cv", name="default", node=CVSchema)
    cs.store(group="search", name="base_search", node=SearchSchema)

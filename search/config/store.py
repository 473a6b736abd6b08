"""Each group's schema registered with Hydra's ConfigStore as the base its YAML files extend:
types are checked while Hydra composes, and a YAML file carries only what differs."""
from hydra.core.config_store import ConfigStore

from dnn.data.registry import DATASETS
from search.config.cv import CVSchema
from search.config.launcher import BASES as LAUNCHER_BASES
from search.config.model import ModelSchema
from search.config.search import SearchSchema
from search.config.tracking import TrackingSchema
from search.config.train import TrainSchema

# The data group's bases: each settings class of the data-set registry, under its base()
# name (base_generated, ...), which a data set's conf/data/NAME.yaml extends.
DATA_BASES = {entry.settings.base(): entry.settings for entry in DATASETS.values()}


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
    for name, schema in LAUNCHER_BASES.items():
        cs.store(group="search/launcher", name=name, node=schema)

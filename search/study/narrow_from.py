"""dnn-sweep search.narrow_from=STUDY: a new study over a space narrowed from an old one,
started with the old study's finished trials that fall inside it (Optuna add_trials)."""
import re
from pathlib import Path

import optuna
from omegaconf import OmegaConf

from search import links
from search.config import ConfigError, check_run_config
from search.secrets import mask
from search.storage.journal import journal_path
from search.storage.stores import make_storage
from search.storage.urls import is_shared
from search.storage.urls import sqlite_path
from search.study import narrow
from search.study.definition import DEFINITION_KEY
from search.study.space import apply_values, check_space
from search.config import base_run_config
from search.tracking.client import open_run, tracking_uri

NARROWED_KEY = "narrowed_from"   # study user attribute of a narrowed study: the old study
RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def check_narrow_config(search):
    """ValueError naming the key for a bad search.narrow.* value."""
    top, margin = search.narrow.top, search.narrow.margin
    if isinstance(top, bool) or not isinstance(top, (int, float)) or not 0 < top <= 1:
        raise ValueError(f"search.narrow.top must be a fraction in (0, 1], got {top!r}")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) \
            or not 0 <= margin <= 10:
        raise ValueError(f"search.narrow.margin must be a number in [0, 10] (a fraction of "
                         f"the top trials' span), got {margin!r}")
    source = search.get("narrow_from")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise ValueError(f"search.narrow_from must be a study name or an MLflow run id, "
                         f"got {source!r}")


def fine_name(old_name):
    """The narrowed study's name when search.study_name is not given."""
    return f"{old_name}-fine"


def heading(name, source, name_given):
    """How a launcher names its study before anything is opened: "study 'NAME'", and for a
    study narrowed from source (search.narrow_from) the new name and the one it is narrowed
    from; a source given as an MLflow run id is named by its id (its study's name is read
    later). name: search.study_name; name_given: it is on the command line."""
    if not source:
        return f"study {name!r}"
    source = str(source)
    if RUN_ID.match(source):
        new = f"study {name!r}" if name_given else "a new study"
        return f"{new}, narrowed from {source!r} (a study, or the MLflow parent run of one)"
    return f"study {name if name_given else fine_name(source)!r}, narrowed from study {source!r}"


def _storage_if_any(search):
    """The study storage, without creating a local journal that does not exist."""

    if not is_shared(search.storage) and not journal_path(search.storage).is_file():
        return None
    return make_storage(search.storage, search.heartbeat_interval, search.grace_period)


def resolve_source(cfg):
    """The old study named by search.narrow_from (a study name in search.storage, or the
    MLflow run id of a study's parent run)."""
    source = str(cfg.search.narrow_from)
    storage = _storage_if_any(cfg.search)
    names = optuna.get_all_study_names(storage) if storage is not None else []
    name = source
    if source not in names and RUN_ID.match(source):
        name = _study_of_parent_run(cfg, source) or source
    if name not in names:
        where = mask(cfg.search.storage or str(Path("mlruns/optuna.journal")))
        raise ConfigError(f"search.narrow_from {source!r}: no study of that name in {where}"
                          f" (studies: {', '.join(sorted(names)) or 'none'}), and no MLflow "
                          "parent run of a study with that id")
    return optuna.load_study(study_name=name, storage=storage)


def _study_of_parent_run(cfg, run_id):

    store = sqlite_path(tracking_uri(cfg.tracking))
    if store and not Path(store).is_file():
        return None  # no store: no run (and none created by looking)
    try:
        _, run = open_run(cfg.tracking, run_id)
    except LookupError:
        return None
    return run.data.tags.get("optuna.study")


def dims_from_definition(definition):
    """{path: spec} of the space stored in a study's definition."""
    prefix = "search.space."
    specs = {}
    fields = ("type", "low", "high", "log", "step", "choices", "depth_low", "depth_high",
              "units_low", "units_high", "shared", "by")
    for key, value in definition.items():
        if key.startswith(prefix):
            path, _, field = key[len(prefix):].rpartition(".")
            head, _, tail = path.rpartition(".")
            if tail == "ranges":  # train.learning_rate.ranges.adam: [low, high]
                specs.setdefault(head, {}).setdefault("ranges", {})[field] = value
            elif field in fields:
                specs.setdefault(path, {})[field] = value
    return specs


def prepare(cfg, dims, name_given):
    """(cfg with the narrowed space and the new study name, new dims, old study, top trials).
    The old space is the one stored with the old study (else the launcher's)."""

    old = resolve_source(cfg)
    old_dims = dims_from_definition(old.user_attrs.get(DEFINITION_KEY) or {}) or dims
    top = narrow.top_trials(old.get_trials(deepcopy=False), old.directions[0],
                            cfg.search.narrow.top, f"study {old.study_name!r}")
    base = base_run_config(cfg)

    def allowed(path, value):
        try:
            check_run_config(apply_values(base, {path: value}))
            return True
        except (ConfigError, ValueError):
            return False

    new_dims = narrow.narrow_dims(old_dims, top, cfg.search.narrow.margin, allowed)
    cfg = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))
    cfg.search.space = narrow.nested_space(new_dims)
    cfg.search.narrow_from = old.study_name
    if not name_given:
        cfg.search.study_name = fine_name(old.study_name)
    check_space(cfg.search.space, base)
    return cfg, new_dims, old, top


def space_yaml(dims):
    return OmegaConf.to_yaml(OmegaConf.create({"search": {"space": narrow.nested_space(dims)}}))


def warm_start(study, cfg, dims, lock):
    """Add the old study's complete trials inside dims to a new narrowed study, once.
    Returns how many were added (0 when it was done before)."""
    with lock:
        if study.user_attrs.get(NARROWED_KEY):
            return 0
        old = optuna.load_study(study_name=cfg.search.narrow_from, storage=links.storage_of(study))
        trials = narrow.warm_start_trials(old.get_trials(deepcopy=False), dims, old.study_name)
        if len(old.directions) == len(study.directions):
            study.add_trials(trials)
        study.set_user_attr(NARROWED_KEY, old.study_name)
        return len(trials)

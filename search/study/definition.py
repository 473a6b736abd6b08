"""What a study is about, recorded when it is created, so that a later launcher with
other data, another space, metric, direction or fixed settings is refused instead of
silently joining it. The sampler and pruner are not part of it: they may change on resume.
"""
import hashlib
import json

from omegaconf import OmegaConf

from search.config import ConfigError, flatten

DEFINITION_KEY = "definition"
# Paths name where the data is, not what it is: the digest covers the content.
NOT_COMPARED = ("data.dir", "data.path")


def data_digest(data):
    """A short digest of the arrays a study trains and selects on."""
    h = hashlib.sha256()
    for name in ("X_train", "Y_train", "X_val", "Y_val"):
        array = getattr(data, name, None)
        if array is not None:
            h.update(name.encode())
            h.update(str(array.shape).encode())
            h.update(array.tobytes())
    return h.hexdigest()[:16]


def study_definition(cfg, dims, digest):
    """{dotted key: value}: the data (and its digest), the search space, the metric and
    direction, and the run settings that are fixed (not searched)."""
    def plain(node):
        return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node
    searched = set(dims)
    fixed = {k: v for k, v in flatten({"model": plain(cfg.model), "train": plain(cfg.train)}).items()
             if k not in searched and not any(k.startswith(p + ".") for p in searched)}
    out = {**flatten({"data": plain(cfg.data)}), "data.digest": digest,
           **flatten({"search": {"space": {p: dict(s) for p, s in dims.items()}}}),
           "search.metric": plain(cfg.search.metric),
           "search.direction": plain(cfg.search.direction),
           **flatten({"search": {"cv": plain(cfg.search.cv)}}), **fixed}
    return {k: _jsonable(v) for k, v in out.items() if k not in NOT_COMPARED}


def _jsonable(value):
    return json.loads(json.dumps(value))


def differences(stored, current):
    """Sorted keys whose values differ (present in one only included)."""
    return sorted(k for k in set(stored) | set(current) if stored.get(k) != current.get(k))


def _fmt(value):
    if isinstance(value, list):
        return "[" + ",".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_fmt(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _space_path(key):
    """search.space.train.learning_rate for search.space.train.learning_rate.high."""
    for suffix in (".type", ".low", ".high", ".log", ".step", ".choices", ".depth_low",
                   ".depth_high", ".units_low", ".units_high", ".shared"):
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key


def equalizing_overrides(stored, current, keys):
    """Overrides that make the current launcher's definition equal to the stored one."""
    out = []
    if "data.name" in keys:
        out.append(f"data={stored['data.name']}")
    space_old = {_space_path(k) for k in stored if k.startswith("search.space.")}
    space_new = {_space_path(k) for k in current if k.startswith("search.space.")}
    done = set()
    for key in keys:
        if key in ("data.name", "data.digest"):
            continue
        if key.startswith("search.space."):
            dim = _space_path(key)
            if dim in done:
                continue
            if dim not in space_old:
                out.append(f"~{dim}")
                done.add(dim)
                continue
            if dim not in space_new:
                spec = {k[len(dim) + 1:]: v for k, v in stored.items() if k.startswith(dim + ".")}
                out.append(f"+{dim}={_fmt(spec)}")
                done.add(dim)
                continue
        if key not in stored:
            if f"search.space.{key}" not in space_old:  # else: searched then, fixed now
                out.append(f"~{key}")
        elif f"search.space.{key}" in space_new:
            continue  # fixed then, searched now: removing the dimension is enough
        else:
            out.append(f"{key}={_fmt(stored[key])}")
    return [f"'{o}'" if any(c in o for c in "[]{},~ ") else o for o in out]


def check_definition(study, current, lock):
    """Store the definition of a new study (or of one made before definitions were
    recorded) and return True: this launcher created it; False when the stored one equals
    current; raise ConfigError when it differs."""
    with lock:
        stored = study.user_attrs.get(DEFINITION_KEY)
        if stored is None:
            study.set_user_attr(DEFINITION_KEY, current)
            return True
    keys = differences(stored, current)
    if not keys:
        return False
    shown = ", ".join(f"{k} ({_fmt(stored.get(k, '<absent>'))} -> {_fmt(current.get(k, '<absent>'))})"
                      for k in keys[:6]) + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")
    fix = " ".join(equalizing_overrides(stored, current, keys))
    way = (f", or add {fix} to join it" if fix else "")
    if keys == ["data.digest"]:
        way = " (the same data settings now give other data: nothing can make them equal)"
    raise ConfigError(f"study {study.study_name!r} was created with another definition: "
                      f"{shown}; choose another search.study_name{way}")

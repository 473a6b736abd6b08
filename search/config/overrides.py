"""Hydra command-line overrides: a key's value written as an override, and the key an
override sets."""


def as_overrides(values):
    """Hydra command-line overrides for the values: train.learning_rate=0.01 ..."""
    return [f"{path}={override_value(v)}" for path, v in values.items()]


def override_value(v):
    """A value as Hydra reads it back: lists in brackets, None as null, floats in full."""
    if isinstance(v, list):
        return "[" + ",".join(override_value(x) for x in v) + "]"
    if v is None:
        return "null"
    return repr(v) if isinstance(v, float) else str(v)


def override_key(override):
    """The key an override sets: train.lr of train.lr=0.1, +a.b=1 and ~a.b."""
    return override.lstrip("+~").split("=", 1)[0]

"""Compose a command line in-process with Hydra's compose API and check it: every error,
Hydra's own (a malformed override, an unknown option or key, a value of the wrong type) or
a range the schema refuses, becomes one ConfigError naming the override or key."""
from omegaconf.errors import OmegaConfBaseException

from search.config.errors import ConfigError
from search.config.overrides import override_key
from search.config.paths import conf_dir

SYNTAX = "key=value, +key=value, ~key or group=option"


def _parse(overrides):
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    parsed = []
    for line in overrides:
        try:
            parsed += parser.parse_overrides([line])
        except OverrideParseException as e:
            reason = str(e).splitlines()[0]
            raise ConfigError(f"override {line!r}: {reason} (allowed forms: {SYNTAX})") from None
    return parsed


def _variants(parsed):
    """The overrides of each job of a --multirun sweep (a,b,c or range(...)): every value of
    each swept key once, the others at their first value."""
    def lines(o):
        if not o.is_sweep_override() or o.is_interval_sweep():
            return [o.input_line]
        sign = "++" if o.is_force_add() else "+" if o.is_add() else ""
        return [f"{sign}{o.get_key_element()}={v}" for v in o.sweep_string_iterator()]

    options = [lines(o) for o in parsed]
    firsts = [opts[0] for opts in options]
    seen = []
    for i, opts in enumerate(options):
        for line in opts:
            job = firsts[:i] + [line] + firsts[i + 1:]
            if job not in seen:
                seen.append(job)
    return seen or [[]]


def _object_keys(cause):
    """The keys of the schema named in an OmegaConf error, if any."""
    object_type = getattr(cause, "object_type", None)
    fields = getattr(object_type, "__dataclass_fields__", None)
    return ", ".join(fields) if fields else None


def explain(e, overrides):
    """One line for an exception raised by hydra.compose."""
    from hydra.errors import MissingConfigException

    if isinstance(e, MissingConfigException):
        group, _, name = (e.missing_cfg_file or "").rpartition("/")
        options = [o for o in (e.options or []) if not o.startswith("base_")]
        if group and options:
            return f"{group}={name}: no such option; available: {', '.join(options)}"
        return str(e).splitlines()[0]
    cause = e.__cause__ if isinstance(e.__cause__, OmegaConfBaseException) else e
    message = str(cause).splitlines()[0]
    key = getattr(cause, "full_key", None)
    culprit = next((o for o in overrides if key and override_key(o) == key), None)
    if culprit is None:
        culprit = next((o for o in overrides if override_key(o) in str(e)), None)
    keys = _object_keys(cause)
    if keys and "not in" in message:
        message += f" (its keys: {keys})"
    return f"override {culprit!r}: {message}" if culprit else message


def compose_checked(config_name, overrides, check=None):
    """The composed config of config_name with overrides (each job's, for a sweep of values),
    passed to check(cfg) when given; raises ConfigError. Returns the first job's config."""
    from hydra import compose, initialize_config_dir


    jobs = _variants(_parse(overrides))
    first = None
    with initialize_config_dir(conf_dir(), version_base="1.3"):
        for job in jobs:
            try:
                cfg = compose(config_name, overrides=job)
            except ConfigError:
                raise
            except Exception as e:  # noqa: BLE001 - Hydra's and OmegaConf's errors
                raise ConfigError(explain(e, job)) from e
            if check is not None:
                check(cfg)
            first = cfg if first is None else first
    return first


"""Range and choice rules of config keys, checked on a group's values (a dataclass or a
mapping); a broken rule raises ConfigError naming group.key, the value and what is allowed.

The rules are the one range checker of dnn.checks (the data settings and the network's
keyword arguments use the same); here they are applied to a group's keys.
"""
from dnn.checks import INF, SEED, Flag, Integer, Number, OneOf, Positive, Text
from search.config.errors import ConfigError

__all__ = ["INF", "SEED", "Flag", "Integer", "Number", "OneOf", "Positive", "Text",
           "check_rules"]


def check_rules(values, rules, group):
    """Check each key of rules on values (attribute or item access)."""
    for key, rule in rules.items():
        value = values[key] if isinstance(values, dict) else getattr(values, key)
        try:
            rule.check(f"{group}.{key}", value)
        except ValueError as e:
            raise ConfigError(str(e)) from None

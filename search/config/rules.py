"""Range and choice rules of config keys, checked on a group's values (a dataclass or a
mapping); a broken rule raises ConfigError naming group.key, the value and what is allowed."""
import math
from dataclasses import dataclass
from typing import Any, Tuple

from dnn.data.settings import MAX_SEED, check_number
from search.config.errors import ConfigError

INF = math.inf


@dataclass(frozen=True)
class Number:
    low: float = -INF
    high: float = INF
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    optional: bool = False  # null allowed

    def check(self, key, value):
        if value is None and self.optional:
            return
        try:
            check_number(key, value, self.low, self.high, self.low_open, self.high_open,
                         self.integer)
        except ValueError as e:
            raise ConfigError(f"{e}{' (or null)' if self.optional else ''}") from None


def Integer(low=1, high=INF, optional=False):
    return Number(low, high, integer=True, optional=optional)


def Positive(high=INF, optional=False):
    return Number(0, high, low_open=True, optional=optional)


SEED = Integer(0, MAX_SEED)


@dataclass(frozen=True)
class OneOf:
    allowed: Tuple[Any, ...]

    def check(self, key, value):
        if isinstance(value, bool) or value not in self.allowed:
            raise ConfigError(f"{key}={value!r}: must be one of {', '.join(map(str, self.allowed))}")


@dataclass(frozen=True)
class Flag:
    def check(self, key, value):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}={value!r}: must be true or false")


@dataclass(frozen=True)
class Text:
    optional: bool = False

    def check(self, key, value):
        if value is None and self.optional:
            return
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{key}={value!r}: must be a non-empty string"
                              f"{' (or null)' if self.optional else ''}")


def check_rules(values, rules, group):
    """Check each key of rules on values (attribute or item access)."""
    for key, rule in rules.items():
        value = values[key] if isinstance(values, dict) else getattr(values, key)
        rule.check(f"{group}.{key}", value)

"""dnn.checks: one ValueError naming the key and the bad value, from the one range checker."""
import math

import numpy as np
import pytest

from dnn.checks import (
    SEED,
    Flag,
    Integer,
    Number,
    OneOf,
    Positive,
    Text,
    check_choice,
    check_positive,
    check_range,
)


@pytest.mark.parametrize("value", ["abc", None, True, [0.5], float("nan"), -0.1, 1.5])
def test_check_range_rejects_with_a_value_error(value):
    with pytest.raises(ValueError, match=r"x must be in \[0, 1\], got "):
        check_range("x", value, 0, 1)


@pytest.mark.parametrize("value, kw", [(0, {}), (1, {}), (0.5, {"low_open": True}),
                                       (0.999, {"high_open": True})])
def test_check_range_accepts_the_range(value, kw):
    check_range("x", value, 0, 1, **kw)


@pytest.mark.parametrize("value, kw", [(0, {"low_open": True}), (1, {"high_open": True})])
def test_open_ends_are_excluded(value, kw):
    with pytest.raises(ValueError, match=r"x must be in [\[(]0, 1[\])]"):
        check_range("x", value, 0, 1, **kw)


def test_check_positive_and_check_choice():
    with pytest.raises(ValueError, match="n must be a positive integer, got 2.0"):
        check_positive("n", 2.0, integer=True)
    with pytest.raises(ValueError, match="n must be a positive number, got 'a'"):
        check_positive("n", "a")
    with pytest.raises(ValueError, match="unknown kind 'c'; allowed: a, b"):
        check_choice("kind", "c", ("a", "b"))


@pytest.mark.parametrize("rule, value, message", [
    (SEED, -1, "seed=-1: must be an integer in [0, 4294967295]"),
    (SEED, 2.0, "seed=2.0: must be an integer in [0, 4294967295]"),
    (Integer(1, 10, optional=True), 0, "seed=0: must be an integer in [1, 10] (or null)"),
    (Positive(), math.inf, "seed=inf: must be a number in (0, inf)"),
    (Number(0, 1, high_open=True), 1.0, "seed=1.0: must be a number in [0, 1)"),
    (Number(), math.nan, "seed=nan: must be a number in (-inf, inf)"),
    (OneOf(("gd", "adam")), True, "seed=True: must be one of gd, adam"),
    (Flag(), "yes", "seed='yes': must be true or false"),
    (Text(optional=True), " ", "seed=' ': must be a non-empty string (or null)"),
])
def test_a_rule_names_the_key_the_value_and_what_is_allowed(rule, value, message):
    with pytest.raises(ValueError) as e:
        rule.check("seed", value)
    assert str(e.value) == message


def test_rules_take_numpy_numbers_null_when_optional_and_huge_integers_without_overflow():
    SEED.check("seed", np.int64(3))
    Integer(optional=True).check("n", None)
    Number(0, math.inf, high_open=False).check("x", math.inf)  # an end closed on purpose
    assert not Integer(1, 10).allows(10**400) and Integer().allows(10**400)


"""dnn.checks: one ValueError naming the key and the bad value."""
import pytest

from dnn.checks import check_choice, check_positive, check_range


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

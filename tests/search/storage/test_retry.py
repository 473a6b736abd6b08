"""search/storage/retry.py: what is retried, what is not, the landed check, the budget."""
import logging

import pytest
import sqlalchemy.exc

from search.storage.retry import AnswerLost, Retry, is_transient


def dropped():
    return sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("server closed the "
                                           "connection unexpectedly"))


def test_a_write_that_landed_before_its_answer_was_lost_is_not_made_again():
    made = []

    def write():
        made.append(1)
        raise dropped()  # committed, but the answer is lost

    result = Retry(budget=30, first_delay=0.01, quiet=True)(
        write, landed=lambda: (bool(made), "found"))
    assert result == "found" and made == [1]


def test_a_write_that_did_not_land_is_made_again_until_it_does():
    calls = []

    def write():
        calls.append(1)
        if len(calls) < 3:
            raise dropped()
        return "made"

    retry = Retry(budget=30, first_delay=0.01, quiet=True)
    assert retry(write, landed=lambda: (False, None)) == "made" and len(calls) == 3
    assert retry.last_failure is not None


def test_errors_no_waiting_cures_are_raised_at_once():
    calls = []

    def bad():
        calls.append(1)
        raise sqlalchemy.exc.OperationalError("x", {}, Exception(
            'password authentication failed for user "u"'))

    with pytest.raises(sqlalchemy.exc.OperationalError, match="password"):
        Retry(budget=30, first_delay=0.01, quiet=True)(bad)
    assert calls == [1]
    assert is_transient(AnswerLost("cut")) and not is_transient(ValueError("x"))


def test_past_the_budget_the_last_error_is_raised_with_a_note(caplog):
    calls = []

    def down():
        calls.append(1)
        raise dropped()

    with caplog.at_level(logging.INFO, logger="dnnsweep"), \
            pytest.raises(sqlalchemy.exc.OperationalError, match="server closed"):
        Retry(budget=0.3, first_delay=0.05, max_delay=0.1)(down)
    assert len(calls) >= 2
    assert "giving up" in caplog.records[-1].getMessage()

"""search/storage/retry.py: what is retried, what is not, the landed check, the budget."""
import logging
import time

import pytest
import sqlalchemy.exc

from search.storage.retry import AnswerLost, Retry, is_transient, outage_reason


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


def test_inside_patiently_a_call_waits_past_the_budget_until_the_database_answers(caplog):
    calls = []

    def down_for_a_while():  # down for four times the budget
        calls.append(time.monotonic())
        if calls[-1] - calls[0] < 0.2:
            raise dropped()
        return "recorded"

    retry = Retry(budget=0.05, first_delay=0.02, max_delay=0.05, where="the database at h:1/d")
    with caplog.at_level(logging.INFO, logger="dnnsweep"), \
            retry.patiently(lambda: False, "trial 3's end"):
        assert retry(down_for_a_while) == "recorded"
    notes = [r.getMessage() for r in caplog.records]
    waits = [n for n in notes if n.startswith("waiting for the database at h:1/d to record "
                                              "trial 3's end")]
    assert len(waits) == 1, notes
    assert "giving up" not in " ".join(notes)
    with pytest.raises(sqlalchemy.exc.OperationalError):  # outside it, the budget again
        retry(always_down)


def always_down():
    raise dropped()


def test_patiently_stops_waiting_once_its_stop_holds():
    calls = []

    def down():
        calls.append(1)
        always_down()

    retry = Retry(budget=0.01, first_delay=0.01, max_delay=0.02, quiet=True)
    with retry.patiently(lambda: len(calls) >= 5, "trial 0's end"), \
            pytest.raises(sqlalchemy.exc.OperationalError):
        retry(down)
    assert len(calls) == 5


def test_an_outage_is_recorded_by_the_databases_error_not_optunas_wrapper():
    import optuna

    try:
        try:
            raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception(
                'connection to server at "127.0.0.1", port 5432 failed: Connection refused'))
        except sqlalchemy.exc.OperationalError as e:  # as RDBStorage's sessions wrap it
            raise optuna.exceptions.StorageInternalError(
                "An exception is raised during the commit. This typically happens due to "
                "invalid data in the commit, e.g. exceeding max length. ") from e
    except optuna.exceptions.StorageInternalError as wrapped:
        reason = outage_reason(wrapped)
    assert "OperationalError" in reason and "Connection refused" in reason, reason
    assert "invalid data" not in reason and "max length" not in reason
    assert outage_reason(ValueError("value too long for type character varying(2048)")) is None

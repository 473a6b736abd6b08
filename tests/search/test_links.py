"""search.links: the study <-> run links, on real Optuna storages (journal file and SQLite)."""
import os
import socket
import subprocess
import sys
import threading

import optuna
import pytest

from search import links
from search.storage.stores import make_storage

S = optuna.trial.TrialState


@pytest.fixture(params=["journal", "sqlite"])
def study(request, tmp_path):
    url = str(tmp_path / "j.journal") if request.param == "journal" \
        else f"sqlite:///{tmp_path}/o.db"
    storage = make_storage(url, None, None)
    s = optuna.create_study(storage=storage, study_name="s")
    return links.bind(s, storage)


def dead_pid():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def test_parent_run_is_stored_on_the_study_and_seen_by_a_new_handle(study):
    assert links.parent_run_id(study) is None
    links.set_parent_run(study, "abc")
    other = optuna.load_study(study_name="s", storage=links.storage_of(study))
    assert links.parent_run_id(other) == "abc"
    assert other.user_attrs == {links.PARENT_RUN: "abc"}


def test_trial_links_owner_run_metrics_and_reasons(study):
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    links.mark_owner(trial)
    links.set_trial_run(trial, "run-1")
    links.set_trial_metrics(trial, {"val_cost": 0.5})
    links.set_end_reason(trial, S.PRUNED, "pruned at iteration 3")
    study.tell(trial, state=S.PRUNED)
    frozen = study.trials[0]
    assert links.owner(frozen) == f"{socket.gethostname()}:{os.getpid()}"
    assert links.trial_run_id(frozen) == "run-1"
    assert links.trial_metrics(frozen) == {"val_cost": 0.5}
    assert frozen.user_attrs[links.END_REASON] == "pruned at iteration 3"
    assert links.fail_reason(frozen) is None
    assert not links.has_dead_local_owner(frozen)  # this very process


def test_reasons_are_masked_and_bounded(study):
    trial = study.ask()
    links.set_end_reason(trial, S.FAIL, "cannot reach postgresql://u:hunter2@h/db " + "x" * 5000)
    study.tell(trial, state=S.FAIL)
    reason = links.fail_reason(study.trials[0])
    assert "hunter2" not in reason and len(reason) == 2000


def test_a_dead_owners_trial_is_failed_with_its_reason_and_retried_once(study):
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    trial.set_user_attr(links.OWNER, f"{socket.gethostname()}:{dead_pid()}")
    frozen = study.trials[0]
    assert links.has_dead_local_owner(frozen)
    failed = links.fail_trial(study, frozen.number, links.WORKER_DIED)
    assert failed.state == S.FAIL and links.fail_reason(failed) == links.WORKER_DIED
    assert links.fail_trial(study, frozen.number, links.WORKER_DIED) is None  # already ended
    assert links.enqueue_retry(study, failed)
    retry = study.trials[1]
    assert retry.state == S.WAITING and links.retry_of(retry) == 0
    assert not links.enqueue_retry(study, retry), "a retry is not retried again"
    assert links.replaced(study.trials) == {0}
    again = study.ask()  # takes the queued retry, with the failed trial's values
    assert again.number == 1 and again.suggest_float("x", 0, 1) == failed.params["x"]


def test_a_trial_failed_without_a_reason_was_failed_by_the_heartbeat_check(study):
    study.tell(study.ask(), state=S.FAIL)
    assert links.fail_reason(study.trials[0]) == links.WORKER_DIED


def test_the_refit_is_claimed_once_among_concurrent_claimants(study, tmp_path):
    from search.storage.locks import file_lock

    results = []

    def claim():
        results.append(links.claim_refit(study, 3, file_lock(tmp_path / "refit.lock")))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the claims of one process all name it: the first claims, the others see its claim
    assert results.count(None) == 1
    links.set_refit_done(study, {"trial": 3, "run_id": "r"})
    assert links.claim_refit(study, 3, file_lock(tmp_path / "refit.lock"))["run_id"] == "r"
    # a claim on another trial (a new best) is taken
    assert links.claim_refit(study, 4, file_lock(tmp_path / "refit.lock")) is None
    assert links.refit_mark(study)["trial"] == 4


def test_a_dead_claimants_refit_is_taken_over(study, tmp_path):
    from search.storage.locks import file_lock

    study.set_user_attr(links.REFIT, {"trial": 1, "owner": f"{socket.gethostname()}:{dead_pid()}"})
    assert links.claim_refit(study, 1, file_lock(tmp_path / "l")) is None
    assert links.refit_mark(study)["owner"] == f"{socket.gethostname()}:{os.getpid()}"


def test_trial_id_names_the_storage_row_of_a_trial_number(study):
    study.ask()
    study.ask()
    storage = links.storage_of(study)
    assert storage.get_trial(links.trial_id(study, 1)).number == 1
    assert links.frozen_trial(study, 0).number == 0


def test_one_launcher_confirms_a_live_others_claim_is_respected_a_dead_ones_taken(study, tmp_path):
    from search.storage.locks import file_lock

    def lock():
        return file_lock(tmp_path / "l")
    me = f"{socket.gethostname()}:{os.getpid()}"
    assert links.claim_confirmation(study, lock()) is None
    assert links.claim_confirmation(study, lock()) is None, "this process's own claim"
    links.release_confirmation(study, lock())
    assert study.user_attrs[links.CONFIRMING] == ""
    alive = f"{socket.gethostname()}:{os.getppid()}"
    study.set_user_attr(links.CONFIRMING, alive)
    assert links.claim_confirmation(study, lock()) == alive
    links.release_confirmation(study, lock())  # not ours: left alone
    assert study.user_attrs[links.CONFIRMING] == alive
    study.set_user_attr(links.CONFIRMING, f"{socket.gethostname()}:{dead_pid()}")
    assert links.claim_confirmation(study, lock()) is None
    assert study.user_attrs[links.CONFIRMING] == me

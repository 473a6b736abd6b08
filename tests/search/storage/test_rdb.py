"""search/storage/rdb.py and claims.py against a real PostgreSQL: a write whose COMMIT
reached the server but whose answer never came back (the connection cut right after it,
by a TCP proxy between the storage and the server) lands exactly once, and its caller is
told what happened. Without the checks, the retry would make a second trial, raise on a
finished trial, or lose a claimed one."""
import contextlib
import socket
import struct
import threading
import time

import optuna
import pytest
import sqlalchemy
from optuna.trial import FrozenTrial, TrialState
from pg_helpers import fresh_database, server_url

from search.storage import claims
from search.storage.stores import make_storage

pytestmark = pytest.mark.postgres


class LosingProxy:
    """Forwards PostgreSQL's wire protocol from a local port to the server; once armed with
    a pattern, the first transaction whose statements contain it has its COMMIT forwarded
    and then its connection cut before the answer comes back."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.pattern, self.cut = None, 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            client, _ = self.server.accept()
            upstream = socket.create_connection(self.target)
            mute = threading.Event()
            threading.Thread(target=self._pump, args=(upstream, client, mute),
                             daemon=True).start()
            threading.Thread(target=self._requests, args=(client, upstream, mute),
                             daemon=True).start()

    @staticmethod
    def _pump(src, dst, mute):
        """Server -> client, until muted."""
        with contextlib.suppress(OSError):
            while (data := src.recv(65536)) and not mute.is_set():
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def _requests(self, client, upstream, mute):
        """Client -> server, message by message (the first one, the startup, untyped)."""
        buf, typed, seen = b"", False, False
        try:
            while data := client.recv(65536):
                buf += data
                while True:
                    head = 5 if typed else 4
                    if len(buf) < head:
                        break
                    size = struct.unpack("!I", buf[head - 4:head])[0] + head - 4
                    if len(buf) < size:
                        break
                    message, buf = buf[:size], buf[size:]
                    text = message[5:-1].decode(errors="replace").strip().upper() \
                        if typed and message[:1] == b"Q" else ""
                    seen = (seen or bool(self.pattern and self.pattern in text)) \
                        and text not in ("BEGIN", "ROLLBACK")
                    if text == "COMMIT" and seen:
                        self.pattern = None
                        self.cut += 1
                        mute.set()
                        upstream.sendall(message)
                        time.sleep(0.5)  # the server commits; its answer is dropped
                        raise OSError("cut")
                    upstream.sendall(message)
                    typed = True
        except OSError:
            pass
        for s in (client, upstream):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()


@pytest.fixture
def lossy():
    """(storage through the proxy, the proxy, a study id, the database's own URL)."""
    url = server_url()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with fresh_database(url, "lossy") as db:
        u = sqlalchemy.engine.make_url(db)
        proxy = LosingProxy(u.host or "127.0.0.1", u.port or 5432)
        proxied = u.set(host="127.0.0.1", port=proxy.port, query={
            **u.query, "sslmode": "disable", "gssencmode": "disable"})
        storage = make_storage(proxied.render_as_string(hide_password=False), None, None,
                               retry_budget=30)
        study = optuna.create_study(storage=storage, study_name="lossy")
        try:
            yield storage, proxy, storage.get_study_id_from_name(study.study_name), db
        finally:
            storage.close()


def trials_of(db):
    storage = optuna.storages.RDBStorage(db)
    try:
        return optuna.load_study(study_name="lossy", storage=storage).get_trials()
    finally:
        storage.engine.dispose()


def test_a_new_trial_whose_answer_was_lost_is_made_once(lossy):
    storage, proxy, study_id, db = lossy
    proxy.pattern = "INSERT INTO TRIALS"
    trial_id = storage.create_new_trial(study_id)
    assert proxy.cut == 1, "the proxy never cut the connection"
    trials = trials_of(db)
    assert [(t.number, t.state) for t in trials] == [(0, TrialState.RUNNING)]
    assert storage.get_trial_id_from_study_id_trial_number(study_id, 0) == trial_id


def test_a_state_change_whose_answer_was_lost_is_reported_done(lossy):
    storage, proxy, study_id, db = lossy
    trial_id = storage.create_new_trial(study_id)
    proxy.pattern = "UPDATE TRIALS"
    assert storage.set_trial_state_values(trial_id, TrialState.COMPLETE, [0.25]) is True
    assert proxy.cut == 1
    assert [(t.state, t.values) for t in trials_of(db)] == [(TrialState.COMPLETE, [0.25])]


def test_a_claim_whose_answer_was_lost_is_ours_and_no_one_elses(lossy):
    storage, proxy, study_id, db = lossy
    waiting = FrozenTrial(number=-1, state=TrialState.WAITING, value=None, values=None,
                          datetime_start=None, datetime_complete=None, params={},
                          distributions={}, user_attrs={}, system_attrs={},
                          intermediate_values={}, trial_id=-1)
    trial_id = storage.create_new_trial(study_id, waiting)
    proxy.pattern = "UPDATE TRIALS SET STATE"
    assert storage.set_trial_state_values(trial_id, TrialState.RUNNING) is True
    assert proxy.cut == 1
    other = make_storage(db, None, None, retry_budget=5)
    try:
        assert other.set_trial_state_values(trial_id, TrialState.RUNNING) is False
    finally:
        other.close()
    trial = trials_of(db)[0]
    assert trial.state == TrialState.RUNNING
    assert sorted(claims.claims_of(trial).values()) == [claims.LOST, claims.WON]

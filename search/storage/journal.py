"""The local study store: Optuna's journal file (mlruns/optuna.journal by default).

It costs ~10 ms per trial against ~55 ms for SQLite and is safe for several processes of
one host. It has no heartbeat: trials record their owner (search.storage.owners).
"""
from pathlib import Path

LOCAL_JOURNAL = "mlruns/optuna.journal"


def journal_path(url):
    return Path(url or LOCAL_JOURNAL)


def open_journal(url):
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    path = journal_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))

"""search/storage/journal.py: a torn last record is cut off (a copy of the file kept, one
note), and a write the disk refuses is undone, on real journal files."""
import logging

import faults
import optuna
import pytest

from search.config import ConfigError
from search.storage.diskfull import DiskFull
from search.storage.journal import cut_torn_tail, open_journal


@pytest.fixture
def notes():
    """The notes of the storage logger (what dnn-sweep shows as `dnnsweep:` lines)."""
    records = []
    seen = logging.Handler()
    seen.emit = records.append
    log = logging.getLogger("dnnsweep.storage")
    log.addHandler(seen)
    level = log.level
    log.setLevel(logging.INFO)
    yield records
    log.removeHandler(seen)
    log.setLevel(level)


def a_study(path, n_trials=3):
    """A journal at path holding a study of n_trials COMPLETE trials (values 0, 1, 2...)."""
    study = optuna.create_study(storage=open_journal(str(path)), study_name="s")
    for i in range(n_trials):
        trial = study.ask()
        trial.suggest_float("x", 0.0, 1.0)
        study.tell(trial, float(i))
    return study


def load(path):
    return optuna.load_study(study_name="s", storage=open_journal(str(path)))


def test_a_journal_ending_with_a_whole_record_is_left_alone(tmp_path, notes):
    path = tmp_path / "optuna.journal"
    a_study(path)
    before = path.read_bytes()
    assert cut_torn_tail(path) is None
    assert path.read_bytes() == before and not list(tmp_path.glob("*.torn-*")) and not notes


def test_a_torn_last_record_is_dropped_with_a_copy_kept_and_one_note(tmp_path, notes):
    path = tmp_path / "optuna.journal"
    a_study(path)
    whole = path.read_bytes()
    last = whole[:-1].rfind(b"\n") + 1  # where the last record starts
    torn = whole[:last + (len(whole) - last) // 2]  # that record cut in half
    path.write_bytes(torn)

    study = load(path)  # opening the journal checks its tail
    assert path.read_bytes() == whole[:last], "the complete records stay, nothing else"
    copies = list(tmp_path.glob("optuna.journal.torn-*"))
    assert len(copies) == 1 and copies[0].read_bytes() == torn
    assert len(notes) == 1
    note = notes[0].getMessage()
    assert str(path) in note and str(copies[0]) in note
    assert f"({len(torn) - last} bytes" in note, "it says how much was dropped"
    # The dropped record was the last trial's end (tell): its value is lost, its start kept.
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2 + \
        [optuna.trial.TrialState.RUNNING]
    study.tell(2, 2.0)  # the study goes on, on a whole file
    assert [t.value for t in load(path).trials] == [0.0, 1.0, 2.0]


def test_a_journal_whose_only_record_is_torn_is_emptied(tmp_path, notes):
    path = tmp_path / "optuna.journal"
    path.write_bytes(b'{"op_code": 0, "worker_id": "x", "study_na')
    copy = cut_torn_tail(path)
    assert path.read_bytes() == b"" and copy.read_bytes().startswith(b'{"op_code"')
    assert len(notes) == 1


def test_a_torn_tail_is_cut_before_a_write_lands_on_it(tmp_path, notes):
    path = tmp_path / "optuna.journal"
    study = a_study(path)  # its storage checked the tail when it opened: torn since
    with open(path, "ab") as f:
        f.write(b'{"op_code": 5, "worker_id"')
    study.set_user_attr("k", "v")  # the next write checks again
    assert load(path).user_attrs == {"k": "v"}
    assert len(notes) == 1


# ------------------------------------------------------------------ a file that is no journal

@pytest.mark.parametrize("content, kind", [
    (b"line one\nline two", "some other file"),  # a user's notes: no newline at the end
    (b"SQLite format 3\0" + bytes(4000), "a SQLite database"),
    (b"{\"op\": 1}\n", "some other file"),  # JSON lines, but not Optuna's
    (b"{\"op_co", None),  # the torn first record of a journal: opened
])
def test_an_existing_file_is_opened_only_if_it_is_a_journal(tmp_path, notes, content, kind):
    path = tmp_path / "store"
    path.write_bytes(content)
    if kind is None:
        open_journal(str(path))
        assert path.read_bytes() == b"" and len(notes) == 1
        return
    with pytest.raises(ConfigError) as e:
        open_journal(str(path))
    assert str(path) in str(e.value) and "not an Optuna journal" in str(e.value)
    assert kind in str(e.value) and "allowed:" in str(e.value)
    assert path.read_bytes() == content, "not one byte written or cut"
    assert sorted(tmp_path.iterdir()) == [path] and not notes, "no copy, no lock, no note"


def test_a_folder_is_not_a_journal(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        open_journal(str(tmp_path))
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------ a refused write

@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs (root only), unmounted afterwards."""
    with faults.small_disk(tmp_path / "disk") as folder:
        yield folder


def test_a_write_the_disk_refuses_is_undone_and_raised_as_disk_full(small_disk, notes):
    path = small_disk / "optuna.journal"
    study = a_study(path, n_trials=1)
    before = path.read_bytes()
    filler = faults.fill(small_disk, leave=4096)  # one page free: part of the next record fits

    with pytest.raises(DiskFull) as e:
        study.set_user_attr("big", "x" * 20000)
    assert path.read_bytes() == before, "no partial record is left behind"
    assert str(path) in str(e.value) and "no space left on tmpfs" in str(e.value)
    assert not notes and not list(small_disk.glob("*.torn-*"))

    filler.unlink()  # space again: the study goes on
    study.set_user_attr("big", "x" * 20000)
    assert load(path).user_attrs["big"] == "x" * 20000

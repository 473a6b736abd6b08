"""Data sets, splits and file loaders, with their errors."""
import os

import h5py
import numpy as np
import pytest

from dnn.data import (
    DataError,
    load_dataset,
    load_npz,
    one_hot,
    planar,
    standardize,
    stratified_folds,
    train_val_split,
)
from dnn.data.registry import DATASETS

# The registered sets that need no file (their settings name no file or folder).
BUILTIN = [name for name, entry in DATASETS.items() if entry.settings(name=name).source() == name]


def test_planar_is_the_course_flower():
    X, y = planar()
    assert X.shape == (2, 400) and y.shape == (400,) and y.sum() == 200
    # The course draws theta then radius noise from np.random.seed(1), class by class.
    rng = np.random.RandomState(1)
    t = np.linspace(0, 3.12, 200) + rng.randn(200) * 0.2
    r = 4 * np.sin(4 * t) + rng.randn(200) * 0.2
    np.testing.assert_array_equal(X[:, :200], np.vstack([r * np.sin(t), r * np.cos(t)]))


def test_the_builtin_sets_are_the_registered_sets_but_files():
    assert BUILTIN == ["planar", "moons", "circles", "digits", "breast_cancer"]


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_sets_load_as_columns(name):
    d = load_dataset(name, val_fraction=0.25, standardize=True, seed=3)
    m_train, m_val = d.X_train.shape[1], d.X_val.shape[1]
    assert d.Y_train.shape[1] == m_train and d.Y_val.shape[1] == m_val
    assert m_val / (m_train + m_val) == pytest.approx(0.25, abs=0.02)
    assert np.allclose(d.X_train.mean(axis=1), 0, atol=1e-9)
    n_classes = len(d.classes)
    assert d.Y_train.shape[0] == (1 if n_classes == 2 else n_classes)


def test_split_is_stratified_disjoint_and_seeded():
    y = np.r_[np.zeros(80, int), np.ones(20, int)]
    tr, va = train_val_split(y, 0.2, seed=0)
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 100
    assert y[va].sum() == 4
    assert np.array_equal(va, train_val_split(y, 0.2, seed=0)[1])
    assert not np.array_equal(va, train_val_split(y, 0.2, seed=1)[1])


def test_folds_are_disjoint_covering_and_stratified():
    y = np.r_[np.zeros(53, int), np.ones(22, int)]
    folds = stratified_folds(y, 5, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(75))
    for f in folds:
        assert 4 <= y[f].sum() <= 5 and 14 <= len(f) <= 16


def test_one_hot_and_standardize():
    assert one_hot([0, 1, 1]).shape == (1, 3)
    np.testing.assert_array_equal(one_hot([2, 0], 3), [[0, 1], [0, 0], [1, 0]])
    Xs, Xo = standardize(np.array([[1.0, 3.0], [5.0, 5.0]]), np.array([[2.0], [5.0]]))
    np.testing.assert_array_equal(Xs, [[-1, 1], [0, 0]])
    np.testing.assert_array_equal(Xo, [[0], [0]])


def write_cat(folder, train_keys=("train_set_x", "train_set_y", "list_classes"), m=6, m_y=6):
    with h5py.File(folder / "train_catvnoncat.h5", "w") as f:
        data = {"train_set_x": np.zeros((m, 4, 4, 3), np.uint8),
                "train_set_y": np.r_[np.zeros(m_y - m_y // 2), np.ones(m_y // 2)].astype(int),
                "list_classes": np.array([b"non-cat", b"cat"])}
        for k in train_keys:
            f[k] = data[k]
    with h5py.File(folder / "test_catvnoncat.h5", "w") as f:
        f["test_set_x"] = np.full((2, 4, 4, 3), 255, np.uint8)
        f["test_set_y"] = np.array([0, 1])


def test_cat_files_load(tmp_path):
    write_cat(tmp_path)
    d = load_dataset("cat", dir=str(tmp_path), val_fraction=0)
    assert d.X_train.shape == (48, 6) and d.X_test.shape == (48, 2)
    assert d.X_test.max() == 1.0 and d.classes == ["non-cat", "cat"]


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "data file not found: .*train_catvnoncat.h5"),
    (lambda p: write_cat(p, train_keys=("train_set_x", "list_classes")),
     r"train_catvnoncat.h5: missing key\(s\) \['train_set_y'\]"),
    (lambda p: write_cat(p, m_y=5), "train_catvnoncat.h5: train_set_x .* same number of examples"),
    (lambda p: [(p / f).write_text("garbage") for f in ("train_catvnoncat.h5", "test_catvnoncat.h5")],
     "train_catvnoncat.h5: not a readable HDF5 file"),
])
def test_cat_file_errors_name_the_file(tmp_path, setup, message):
    setup(tmp_path)
    with pytest.raises(DataError, match=message):
        load_dataset("cat", dir=str(tmp_path))


def test_npz_of_ones_own(tmp_path):
    rng = np.random.RandomState(0)
    path = tmp_path / "mine.npz"
    np.savez(path, X=rng.randn(40, 3), y=rng.randint(0, 3, 40))
    d = load_dataset("npz", path=str(path), val_fraction=0.25)
    assert d.X_train.shape[0] == 3 and d.Y_train.shape[0] == 3
    np.savez(path, X=rng.randn(40, 3), y=rng.randint(0, 2, 39))
    with pytest.raises(DataError, match="mine.npz: X .* one label per example"):
        load_dataset("npz", path=str(path))
    np.savez(path, features=rng.randn(4, 3))
    with pytest.raises(DataError, match="mine.npz: needs arrays 'X' and 'y'"):
        load_dataset("npz", path=str(path))


def test_unknown_data_set_and_missing_dir():
    with pytest.raises(ValueError, match="unknown data set 'mnist'; allowed: planar"):
        load_dataset("mnist")
    with pytest.raises(DataError, match="data.dir is not set"):
        load_dataset("cat")


def test_planar_with_an_odd_count_has_no_point_left_at_the_origin():
    X, y = planar(401)
    assert X.shape == (2, 401) and (y == 0).sum() == 200 and (y == 1).sum() == 201
    assert not (np.abs(X).sum(axis=0) == 0).any()
    np.testing.assert_array_equal(planar(400)[0], planar()[0])  # the course's 400 unchanged


def test_split_and_folds_are_scikit_learns():
    from sklearn.model_selection import StratifiedKFold, train_test_split

    y = np.r_[np.zeros(53, int), np.ones(22, int), np.full(10, 2)]
    tr, va = train_val_split(y, 0.2, seed=4)
    ref_tr, ref_va = train_test_split(np.arange(y.size), test_size=0.2, stratify=y, random_state=4)
    np.testing.assert_array_equal(tr, np.sort(ref_tr))
    np.testing.assert_array_equal(va, np.sort(ref_va))
    ref = StratifiedKFold(5, shuffle=True, random_state=4).split(np.zeros((y.size, 1)), y)
    for fold, (_, ref_val) in zip(stratified_folds(y, 5, seed=4), ref):
        np.testing.assert_array_equal(fold, np.sort(ref_val))


def test_more_folds_than_the_smallest_class_is_refused():
    y = np.r_[np.zeros(30, int), np.ones(4, int)]
    with pytest.raises(ValueError, match="cv.folds=5: must be at most 4"):
        stratified_folds(y, 5, seed=0)


def test_circles_default_noise_is_the_schema_default():
    from dnn.data import circles
    from dnn.data.settings import CirclesSettings

    X, _ = circles(seed=3)
    np.testing.assert_array_equal(X, circles(noise=CirclesSettings.noise, seed=3)[0])
    d = load_dataset("circles", seed=3, val_fraction=0)
    np.testing.assert_array_equal(d.X_train, X)
    assert CirclesSettings.noise == 0.1


@pytest.mark.parametrize("name, option", [("digits", "noise"), ("cat", "n_samples"),
                                          ("npz", "factor"), ("planar", "factor")])
def test_an_option_a_set_does_not_take_is_refused(name, option):
    with pytest.raises(ValueError, match=f"data set {name} takes no option '{option}'"):
        load_dataset(name, **{option: 1})


def test_a_nan_pixel_in_the_cat_files_names_the_file(tmp_path):
    write_cat(tmp_path)
    with h5py.File(tmp_path / "train_catvnoncat.h5", "a") as f:
        x = f["train_set_x"][:].astype(float)
        x[2, 1, 1, 0] = np.nan
        del f["train_set_x"]
        f["train_set_x"] = x
    with pytest.raises(DataError, match=r"train_catvnoncat.h5: train_set_x holds NaN .* \(2, 1, 1, 0\)"):
        load_dataset("cat", dir=str(tmp_path))


@pytest.mark.parametrize("arrays, message", [
    ({"X": np.float64(3.0), "y": np.array([0])}, "X must be an array of examples"),
    ({"X": np.zeros((0, 2)), "y": np.zeros(0, int)}, "X must be an array of examples"),
    ({"X": np.zeros((4, 2)), "y": np.array([0, 1, 0, 10**12])}, "label 1000000000000 in y"),
    ({"X": np.zeros((4, 2)), "y": np.array([0, 1, 0, 4])}, "4 examples can define at most 4"),
    ({"X": np.zeros((4, 2)), "y": np.array([0, 1, -1, 0])}, "y must hold integer class labels"),
    ({"X": np.full((4, 2), np.inf), "y": np.array([0, 1, 0, 1])}, "X holds NaN or infinite"),
])
def test_a_malformed_npz_is_refused_naming_the_file(tmp_path, arrays, message):
    path = tmp_path / "mine.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=f"mine.npz: .*{message}"):
        load_dataset("npz", path=str(path))


def test_a_data_set_that_cannot_fit_in_memory_is_refused_before_allocation(monkeypatch):
    import dnn.data.memory as memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 10_000)
    with pytest.raises(ValueError, match=r"data set planar: X \(2, 400\) .* need .* GiB, more than"):
        load_dataset("planar")


@pytest.mark.parametrize("option, value", [("val_fraction", 1.0), ("seed", -1), ("n_samples", 1),
                                           ("noise", float("inf")), ("standardize", "yes")])
def test_bad_options_name_the_option_and_the_value(option, value):
    with pytest.raises(ValueError, match=f"{option}={value!r}: must be"):
        load_dataset("planar", **{option: value})


# ------------------------------------------------------------------ .npz sized from headers

def npz_with(path, members, compresslevel=1):
    """A deflated .npz of members {key: (shape, dtype, bytes of zeros after the header)}:
    the data need not match the header, as in a hostile archive."""
    import io
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        for key, (shape, dtype, n_bytes) in members.items():
            with z.open(f"{key}.npy", "w", force_zip64=True) as f:
                header = io.BytesIO()
                np.lib.format.write_array_header_1_0(header, {
                    "descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape})
                f.write(header.getvalue())
                chunk = bytes(1 << 24)
                while n_bytes > 0:
                    f.write(chunk[:n_bytes])
                    n_bytes -= len(chunk)
    return path


def test_only_the_arrays_of_a_data_set_are_read_from_an_npz(tmp_path):
    """An extra member claiming 8 TB is neither read nor sized (one took 46 s and 3.8 GB)."""
    path = npz_with(tmp_path / "mine.npz", {"X": ((4, 2), "<f8", 64), "y": ((4,), "<i8", 32),
                                             "junk": ((10**12,), "<f8", 64)})
    X, y, X_test, y_test = load_npz(path)
    assert X.shape == (4, 2) and y.tolist() == [0, 0, 0, 0] and X_test is None


def test_an_npz_whose_header_claims_more_than_it_holds_is_refused_unread(tmp_path):
    path = npz_with(tmp_path / "mine.npz", {"X": ((10**9, 1000), "<f8", 64),
                                             "y": ((10**9,), "<i8", 64)})
    with pytest.raises(DataError, match=r"mine.npz: X claims shape \(1000000000, 1000\) of "
                                         r"float64 .* but the archive holds 64 bytes"):
        load_npz(path)


@pytest.mark.slow
def test_a_compressed_npz_bomb_is_refused_from_its_headers_before_reading(tmp_path):
    """256 MiB of zeros deflated to ~1 MB, in a process whose address space is limited to
    400 MiB (ulimit -v): refused in one line before it is inflated (it ended in a
    MemoryError traceback, or with enough memory inflated in full before any size check)."""
    import resource
    import subprocess
    import sys

    rows = (256 << 20) // (8 * 64)
    path = npz_with(tmp_path / "bomb.npz", {"X": ((rows, 64), "<f8", rows * 64 * 8),
                                             "y": ((rows,), "<i8", rows * 8)})
    assert path.stat().st_size < 4 << 20
    code = ("import sys\nfrom dnn.data.files import DataError, load_npz\ntry:\n"
            "    load_npz(sys.argv[1])\nexcept DataError as e:\n    print(e)\n    sys.exit(2)\n")
    limit = 400 << 20
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "bomb.npz: arrays X" in proc.stdout and "more than the" in proc.stdout
    assert "Traceback" not in proc.stderr

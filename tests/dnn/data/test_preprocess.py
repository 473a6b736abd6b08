"""What the training applied to its data, kept to be applied again to the examples a user
has: checked against scikit-learn's StandardScaler and the course's pixel scaling."""
import h5py
import numpy as np
import pytest
import sklearn.datasets
from sklearn.preprocessing import StandardScaler

from dnn.data import DataError, Preprocess, load_dataset, train_val_split


def test_standardization_is_scikit_learns_fitted_on_the_training_split():
    raw = sklearn.datasets.load_breast_cancer()
    d = load_dataset("breast_cancer", val_fraction=0.25, seed=3)
    train_idx, val_idx = train_val_split(raw.target, 0.25, 3)
    scaler = StandardScaler().fit(raw.data[train_idx])
    np.testing.assert_allclose(d.X_val, scaler.transform(raw.data[val_idx]).T, atol=1e-12)
    # Applied again to the raw rows, the same inputs, bit for bit.
    np.testing.assert_array_equal(d.preprocess.apply(raw.data[val_idx]), d.X_val)
    np.testing.assert_array_equal(d.preprocess.apply(raw.data[train_idx]), d.X_train)
    assert d.preprocess.labels([0, 1]).tolist() == list(raw.target_names)


def test_the_course_images_are_flattened_and_divided_by_255(tmp_path):
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, (6, 4, 4, 3)).astype(np.uint8)
    with h5py.File(tmp_path / "train_catvnoncat.h5", "w") as f:
        f["train_set_x"], f["train_set_y"] = x, np.arange(6) % 2
        f["list_classes"] = np.array([b"non-cat", b"cat"])
    with h5py.File(tmp_path / "test_catvnoncat.h5", "w") as f:
        f["test_set_x"], f["test_set_y"] = x[:2], np.array([0, 1])
    d = load_dataset("cat", dir=str(tmp_path), val_fraction=0)
    # The course: train_x_flatten = train_x_orig.reshape(m, -1).T; train_x = that / 255.
    np.testing.assert_array_equal(d.X_train, x.reshape(6, -1).T / 255.0)
    np.testing.assert_array_equal(d.preprocess.apply(x), d.X_train)
    assert (d.preprocess.shape, d.preprocess.dtype) == ((4, 4, 3), "uint8")
    np.testing.assert_array_equal(d.preprocess.example, x[:1])
    assert d.preprocess.labels([1, 0]).tolist() == ["cat", "non-cat"]
    with pytest.raises(ValueError, match=r"expected examples of shape \(m, 4, 4, 3\).* got shape \(2, 48\)"):
        d.preprocess.apply(x.reshape(6, -1)[:2])


@pytest.mark.parametrize("standardize", [True, False])
def test_a_saved_preprocess_loads_whole_without_pickle(tmp_path, standardize):
    d = load_dataset("digits", standardize=standardize)
    d.preprocess.save(tmp_path / "p.npz")
    back = Preprocess.load(tmp_path / "p.npz")
    assert (back.shape, back.dtype, back.classes, back.divide) == (
        (64,), "float64", tuple(str(c) for c in range(10)), 1.0)
    np.testing.assert_array_equal(back.example, d.preprocess.example)
    if standardize:
        np.testing.assert_array_equal(back.mean, d.preprocess.mean)
        np.testing.assert_array_equal(back.std, d.preprocess.std)
    else:
        assert back.mean is None and back.std is None
    raw = sklearn.datasets.load_digits().data[:5]
    np.testing.assert_array_equal(back.apply(raw), d.preprocess.apply(raw))


def test_test_examples_of_another_shape_are_refused_naming_the_file(tmp_path):
    np.savez(tmp_path / "mine.npz", X=np.zeros((4, 3)), y=np.array([0, 1, 0, 1]),
             X_test=np.zeros((2, 5)), y_test=np.array([0, 1]))
    with pytest.raises(DataError, match=r"mine.npz: X_test holds examples of shape \(5,\), X of \(3,\)"):
        load_dataset("npz", path=str(tmp_path / "mine.npz"))

"""Building blocks, initialization, training loop, dtypes and bad input of dnn."""
import numpy as np
import pytest

from dnn import (
    DivergenceError,
    accuracy,
    compute_cost,
    fit,
    initialize_parameters,
    linear_activation_forward,
    linear_backward,
    linear_forward,
    model_backward,
    model_forward,
    output_logits,
    predict,
)
from dnn.data import load_dataset


def test_shapes_follow_the_course_convention():
    p = initialize_parameters([5, 4, 3, 1], "he", seed=0)
    assert [p[k].shape for k in ("W1", "b1", "W2", "b2", "W3", "b3")] == \
        [(4, 5), (4, 1), (3, 4), (3, 1), (1, 3), (1, 1)]
    X = np.random.RandomState(0).randn(5, 11)
    AL, caches = model_forward(X, p)
    assert AL.shape == (1, 11) and len(caches) == 3
    grads = model_backward(AL, np.ones((1, 11)), caches)
    for k, v in p.items():
        assert grads["d" + k].shape == v.shape


@pytest.mark.parametrize("init, scale", [("course", lambda n: 1 / np.sqrt(n)),
                                          ("small", lambda n: 0.01)])
def test_course_inits_draw_randn_layer_by_layer(init, scale):
    dims = [6, 4, 2]
    p = initialize_parameters(dims, init, seed=1)
    rng = np.random.RandomState(1)
    W1 = rng.randn(4, 6)
    W2 = rng.randn(2, 4)
    np.testing.assert_allclose(p["W1"], W1 * scale(6), rtol=1e-15)
    np.testing.assert_allclose(p["W2"], W2 * scale(4), rtol=1e-15)
    assert not p["b1"].any() and not p["b2"].any()


def test_he_and_xavier_scales():
    big = 4000
    assert np.std(initialize_parameters([big, 50, 1], "he", 0)["W1"]) == pytest.approx(np.sqrt(2 / big), rel=0.02)
    assert np.std(initialize_parameters([big, 50, 1], "xavier", 0)["W1"]) == pytest.approx(np.sqrt(1 / big), rel=0.02)


def test_linear_forward_backward_by_hand():
    A_prev = np.array([[1.0, 2.0], [3.0, 4.0]])
    W = np.array([[1.0, -1.0]])
    b = np.array([[0.5]])
    Z, cache = linear_forward(A_prev, W, b)
    np.testing.assert_array_equal(Z, [[-1.5, -1.5]])
    dA_prev, dW, db = linear_backward(np.array([[1.0, 2.0]]), cache)
    np.testing.assert_array_equal(dW, [[5.0, 11.0]])
    np.testing.assert_array_equal(db, [[3.0]])
    np.testing.assert_array_equal(dA_prev, [[1.0, 2.0], [-1.0, -2.0]])
    A, _ = linear_activation_forward(A_prev, W, b, "relu")
    np.testing.assert_array_equal(A, [[0.0, 0.0]])


def test_cost_equals_the_course_formula(binary_problem, softmax_problem):
    X, Y = binary_problem
    AL, caches = model_forward(X, initialize_parameters([4, 3, 1], "he", 0))
    course = -(Y @ np.log(AL).T + (1 - Y) @ np.log(1 - AL).T).item() / Y.shape[1]
    assert compute_cost(output_logits(caches), Y) == pytest.approx(course, rel=1e-13)
    X, Y = softmax_problem
    AL, caches = model_forward(X, initialize_parameters([4, 3, 3], "he", 0), output="softmax")
    assert compute_cost(output_logits(caches), Y) == pytest.approx(-np.sum(Y * np.log(AL)) / 9, rel=1e-13)


def test_confident_network_has_a_finite_cost():
    Z = np.array([[800.0, -800.0]])
    assert compute_cost(Z, np.array([[0.0, 1.0]])) == pytest.approx(800.0)


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_samples=300, noise=0.15, seed=0)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_every_optimizer_learns_the_moons(moons, optimizer):
    lr = 0.01 if optimizer == "adam" else 0.5
    p, costs = fit(moons.X_train, moons.Y_train, hidden_units=[16, 8], activation="tanh",
                   init="xavier", learning_rate=lr, num_epochs=400, batch_size=64, optimizer=optimizer, seed=2)
    assert costs[-1] < 0.5 * costs[0]
    assert accuracy(moons.X_val, moons.Y_val, p, "tanh") > 0.9


def test_runs_are_deterministic_given_the_seed(moons):
    kw = dict(hidden_units=[8, 4], batch_size=32, keep_prob=0.8, lambd=0.1, optimizer="adam",
              learning_rate=0.01, num_epochs=30, seed=5, init="he")
    _, c1 = fit(moons.X_train, moons.Y_train, **kw)
    _, c2 = fit(moons.X_train, moons.Y_train, **kw)
    _, c3 = fit(moons.X_train, moons.Y_train, **{**kw, "seed": 6})
    assert c1 == c2 and c1 != c3


def test_float32_on_request(moons):
    p, costs = fit(moons.X_train, moons.Y_train, hidden_units=[8], num_iterations=50, learning_rate=0.5,
                   dtype="float32", init="he")
    assert all(v.dtype == np.float32 for v in p.values())
    p64, costs64 = fit(moons.X_train, moons.Y_train, hidden_units=[8], num_iterations=50, learning_rate=0.5,
                       init="he")
    assert costs[-1] == pytest.approx(costs64[-1], rel=1e-4)


def test_softmax_on_digits_and_validation_callback():
    d = load_dataset("digits", standardize=True, seed=0)
    seen = []

    def callback(i, cost, metrics):
        seen.append((i, metrics))
        return i == 59  # stop early

    p, costs = fit(d.X_train, d.Y_train, hidden_units=[32], activation="relu", init="he",
                   learning_rate=0.1, num_epochs=500, batch_size=128,
                   optimizer="momentum", validation=(d.X_val, d.Y_val),
                   eval_every=20 * -(-d.X_train.shape[1] // 128),  # updates: every 20 epochs
                   callback=callback)
    assert len(costs) == 60
    assert [i for i, m in seen if m] == [0, 20, 40]
    assert seen[-1][1] == {} and seen[40][1]["val_accuracy"] > 0.85
    assert predict(d.X_val, p).shape == (1, d.X_val.shape[1])


def test_dropout_changes_training_but_not_prediction(moons):
    kw = dict(hidden_units=[16], activation="relu", num_iterations=20, learning_rate=0.3,
              init="he", seed=3)
    _, c_full = fit(moons.X_train, moons.Y_train, **kw)
    p, c_drop = fit(moons.X_train, moons.Y_train, keep_prob=0.5, **kw)
    assert c_full != c_drop
    # Prediction uses every unit, unscaled: the plain forward pass written out by hand.
    X = moons.X_val
    A1 = np.maximum(p["W1"] @ X + p["b1"], 0)
    expected = (1 / (1 + np.exp(-(p["W2"] @ A1 + p["b2"]))) > 0.5).astype(int)
    np.testing.assert_array_equal(predict(X, p, "relu"), expected)
    assert len({tuple(predict(X, p, "relu")[0]) for _ in range(3)}) == 1  # no random mask


def test_divergence_raises_a_catchable_error(moons):
    with pytest.raises(DivergenceError, match="diverged") as e:
        fit(moons.X_train * 1e200, moons.Y_train, hidden_units=[8], activation="relu", init="he", learning_rate=10.0,
            num_iterations=50)
    assert e.value.iteration >= 0


@pytest.mark.parametrize("kwargs, message", [
    ({"keep_prob": "abc"}, r"keep_prob must be in \(0, 1\], got 'abc'"),
    ({"lambd": None}, r"lambd must be in \[0, inf\], got None"),
    ({"activation": "swish"}, "unknown activation 'swish'; allowed: relu, leaky_relu"),
    ({"init": "zeros"}, "unknown init 'zeros'"),
    ({"optimizer": "sgd"}, "unknown optimizer 'sgd'; allowed: gd, momentum, adam"),
    ({"learning_rate": -0.1}, "learning_rate must be a positive number, got -0.1"),
    ({"learning_rate": 0}, "learning_rate must be a positive number, got 0"),
    ({"num_iterations": 0}, "num_iterations must be a positive integer, got 0"),
    ({"hidden_units": [4, 0]}, r"hidden_units\[1\] must be a positive integer, got 0"),
    ({"batch_size": -2}, "batch_size must be a positive integer"),
    ({"keep_prob": 0}, r"keep_prob must be in \(0, 1\]"),
    ({"lambd": -1}, "lambd must be in"),
    ({"dtype": "float16"}, "unknown dtype 'float16'"),
])
def test_bad_hyperparameters_name_the_value(binary_problem, kwargs, message):
    X, Y = binary_problem
    with pytest.raises(ValueError, match=message):
        fit(X, Y, **{"hidden_units": [3], **kwargs})


@pytest.mark.parametrize("X, Y, message", [
    (np.ones(5), np.ones((1, 5)), r"X must have shape \(n_x, m\)"),
    (np.ones((2, 5)), np.ones((1, 4)), r"Y must have shape \(n_y, 5\)"),
    (np.full((2, 3), np.nan), np.ones((1, 3)), "NaN or infinite"),
    (np.ones((2, 3)), np.array([[0, 2, 1]]), "binary labels must be 0 or 1, got 2"),
    (np.ones((2, 2)), np.array([[1, 1], [1, 0]]), "one-hot"),
])
def test_bad_data_is_rejected(X, Y, message):
    with pytest.raises(ValueError, match=message):
        fit(X, Y, hidden_units=[3], num_iterations=1)

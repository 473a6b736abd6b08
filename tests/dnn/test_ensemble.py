"""An ensemble of networks (model.ensemble): each network is the one its seed trains alone,
and its scores are those of the mean probabilities, checked against scikit-learn."""
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

from dnn import evaluate, fit, predict, predict_proba
from dnn.data import one_hot
from dnn.ensemble import members, pack

SETTINGS = dict(hidden_units=[6], activation="relu", learning_rate=0.05, optimizer="adam",
                batch_size=32, num_epochs=5, seed=3)


def digits_like(n_classes, m=120, n_x=5, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(n_classes, size=m)
    X = rng.randn(n_x, m) + y  # (n_x, m): learnable, not separable
    return X, (y[None, :] if n_classes == 2 else one_hot(y, n_classes)), y


def test_each_network_of_an_ensemble_is_the_one_its_seed_trains_alone():
    X, Y, _ = digits_like(3)
    parameters, costs = fit(X, Y, ensemble=3, **SETTINGS)
    networks = members(parameters)
    assert len(networks) == 3
    for k, network in enumerate(networks):
        alone, alone_costs = fit(X, Y, **{**SETTINGS, "seed": SETTINGS["seed"] + k})
        assert network.keys() == alone.keys()
        for name in alone:
            np.testing.assert_array_equal(network[name], alone[name])
        if k == 0:
            assert costs == alone_costs  # the run's curve is the first network's


@pytest.mark.parametrize("n_classes", [2, 3])
def test_an_ensemble_scores_its_mean_probabilities_as_scikit_learn_does(n_classes):
    X, Y, y = digits_like(n_classes)
    parameters, _ = fit(X, Y, ensemble=4, **SETTINGS)
    each = [predict_proba(X, network, "relu") for network in members(parameters)]
    mean = np.mean(each, axis=0)  # (n_y, m)
    np.testing.assert_allclose(predict_proba(X, parameters, "relu"), mean, rtol=1e-12)
    scores = evaluate(parameters, X, Y, "relu")
    proba = np.vstack([1 - mean, mean]) if n_classes == 2 else mean  # (classes, m)
    assert scores["cost"] == pytest.approx(log_loss(y, proba.T, labels=range(n_classes)),
                                           rel=1e-9)
    assert scores["accuracy"] == pytest.approx(accuracy_score(y, proba.argmax(0)))
    if n_classes == 2:
        assert scores["auc"] == pytest.approx(roc_auc_score(y, mean[0]))
    assert (predict(X, parameters, "relu") == np.atleast_2d(
        (mean > 0.5).astype(int) if n_classes == 2 else mean.argmax(0))).all()


def test_one_network_is_an_ensemble_of_one_with_its_parameters_unchanged():
    X, Y, _ = digits_like(2)
    one, _ = fit(X, Y, ensemble=1, **SETTINGS)
    plain, _ = fit(X, Y, **SETTINGS)
    assert one.keys() == plain.keys() == {"W1", "b1", "W2", "b2"}
    assert evaluate(one, X, Y, "relu") == evaluate(plain, X, Y, "relu")


def test_pack_and_members_round_trip_and_leave_the_networks_alone():
    a = {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1))}
    b = {"W1": 2 * np.ones((2, 3)), "b1": np.ones((2, 1))}
    packed = pack([a, b])
    assert sorted(packed) == ["1/W1", "1/b1", "W1", "b1"]
    back = members(packed)
    assert [sorted(n) for n in back] == [["W1", "b1"], ["W1", "b1"]]
    np.testing.assert_array_equal(back[1]["W1"], b["W1"])
    assert sorted(a) == ["W1", "b1"] and sorted(b) == ["W1", "b1"]


def test_a_callback_that_stops_the_first_network_stops_the_ensemble():
    X, Y, _ = digits_like(2)
    parameters, costs = fit(X, Y, ensemble=3, callback=lambda i, cost, metrics: i == 1,
                            **SETTINGS)
    assert len(members(parameters)) == 1 and len(costs) == 2


def edge_of_stability():
    """Momentum at a rate where some seeds diverge: from seeds 0..4, seeds 2 and 4 do."""
    rng = np.random.RandomState(0)
    y = rng.randint(3, size=120)
    X = rng.randn(5, 120) * 3 + y
    return X, one_hot(y, 3), dict(hidden_units=[16, 8], activation="leaky_relu",
                                  learning_rate=4.0, optimizer="momentum", batch_size=16,
                                  num_epochs=10, dtype="float32")


def test_a_later_network_that_diverges_is_left_out_and_named():
    X, Y, settings = edge_of_stability()
    left_out = []
    parameters, _ = fit(X, Y, ensemble=4, seed=0, left_out=left_out, **settings)
    assert [seed for seed, _ in left_out] == [2]
    assert "diverged" in str(left_out[0][1])
    kept = members(parameters)
    assert len(kept) == 3
    alone, _ = fit(X, Y, seed=3, **settings)  # the third network kept is seed 3's
    np.testing.assert_array_equal(kept[2]["W1"], alone["W1"])


def test_an_ensemble_whose_first_network_diverges_raises_as_one_network_does():
    from dnn import DivergenceError

    X, Y, settings = edge_of_stability()
    with pytest.raises(DivergenceError):
        fit(X, Y, ensemble=3, seed=2, **settings)


def test_the_later_networks_report_their_progress_and_the_first_its_callback():
    X, Y, _ = digits_like(2)
    first, later = [], []
    fit(X, Y, ensemble=3, callback=lambda i, cost, metrics: first.append(i) and False,
        progress=lambda k, i, cost: later.append((k, i)), **SETTINGS)
    assert first == [0, 1, 2, 3, 4]
    assert later == [(k, i) for k in (1, 2) for i in range(5)]

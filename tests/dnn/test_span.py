"""dnn/span.py: the span's products and norms equal those of W1 = alpha W1_0 + C X.T
materialized (float64, 1e-12 relative); where the path applies."""
import numpy as np
import pytest

from dnn.span import SpanColumns, span_applies


def span_with_coefficients(m=12, n1=4):
    rng = np.random.RandomState(0)
    X, W1_0 = rng.rand(30, m), rng.randn(3, n1, 30)
    span = SpanColumns(X, np.ascontiguousarray(X.T), W1_0)
    span.alpha[:] = [1.0, 0.7, -0.2]
    C = rng.randn(3, n1, m)
    W1 = np.stack([span.materialize(C, f) for f in range(3)])
    return X, span, C, W1


def test_materialized_first_layer_is_alpha_W1_0_plus_C_X_T():
    X, span, C, W1 = span_with_coefficients()
    for f in range(3):
        np.testing.assert_allclose(W1[f], span.alpha[f] * span.W1_0[f] + C[f] @ X.T, rtol=1e-13)


@pytest.mark.parametrize("m, n1", [(12, 4), (400, 8)])  # F products (n1, m) @ (m, m), or one
def test_product_and_squared_norm_equal_those_of_W1(m, n1):
    X, span, C, W1 = span_with_coefficients(m, n1)
    Z1 = W1 @ X
    assert np.linalg.norm(span.product(C) - Z1) <= 1e-13 * np.linalg.norm(Z1)
    np.testing.assert_allclose(span.squared_norm(C), np.square(W1).sum(axis=(1, 2)), rtol=1e-12)
    assert span.gradient(C) is C  # dW1 = dZ1 @ X.T: dZ1 is its coefficient


def test_start_is_W1_0_and_an_overflowing_gram_matrix_is_reported():
    X, span, _, _ = span_with_coefficients()
    assert span.finite and not span.initial_coefficients().any()
    with np.errstate(over="ignore"):
        big = SpanColumns(X * 1e200, np.ascontiguousarray(X.T * 1e200), span.W1_0)
    assert not big.finite


@pytest.mark.parametrize("n_x, m, optimizer, full_batch, expected", [
    (12288, 209, "gd", True, True), (12288, 209, "momentum", True, True),
    (12288, 209, "adam", True, False), (12288, 209, "gd", False, False),
    (784, 10000, "gd", True, False), (784, 2000, "gd", True, False),
    (100000, 20000, "gd", True, False)])  # G would be 3 GB
def test_span_applies_to_full_batch_gd_and_momentum_on_few_columns(n_x, m, optimizer,
                                                                   full_batch, expected):
    assert span_applies(n_x, m, optimizer, full_batch) is expected

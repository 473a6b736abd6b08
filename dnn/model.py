"""The whole network: model_forward and model_backward over L layers."""
from dnn.activations import BACKWARD
from dnn.layers import linear_activation_forward, linear_backward, linear_relu_backward


def model_forward(X, parameters, activation="relu", output="sigmoid", keep_prob=1.0, rng=None):
    """[LINEAR -> activation] x (L-1) -> LINEAR -> output. Returns AL and the caches.

    With keep_prob < 1, inverted dropout masks each hidden layer's output, drawn
    from rng; the mask D is kept in the cache for the backward pass.
    """
    L = len(parameters) // 2
    A = X
    caches = []
    for l in range(1, L + 1):
        act = activation if l < L else output
        A, cache = linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], act)
        D = None
        if keep_prob < 1 and l < L:
            D = rng.random_sample(A.shape) < keep_prob
            A = A * D / keep_prob
        caches.append((cache, D))
    return A, caches


def output_logits(caches):
    """The output layer's pre-activation ZL, from the caches of model_forward."""
    (_, ZL), _ = caches[-1]
    return ZL


def model_backward(AL, Y, caches, activation="relu", lambd=0.0, keep_prob=1.0):
    """Gradients {"dW1": ..., "db1": ..., ...} of the mean cross-entropy (+ L2).

    For sigmoid + binary and softmax + categorical cross-entropy alike, the
    output's dZ is (AL - Y) / m; dividing by m once here makes every later dW and
    db a plain sum. With relu hidden layers (no dropout), the hidden activations in
    caches are overwritten by their gradients: caches are spent afterwards.
    """
    m = Y.shape[1]
    L = len(caches)
    grads = {}
    dZ = AL - Y  # (n_L, m), a fresh array: divided in place, same values as (AL - Y) / m
    dZ /= m
    for l in range(L, 0, -1):
        (linear_cache, _), _ = caches[l - 1]
        if fuses_relu(caches, l, activation):
            # dZ of layer l-1 straight into its cached A: no fresh (n_prev, m) array.
            (_, A_prev), _ = caches[l - 2]
            dZ_prev, dW, db = linear_relu_backward(dZ, linear_cache, A_prev)
        else:
            dA_prev, dW, db = linear_backward(dZ, linear_cache, l > 1)
            dZ_prev = hidden_dZ(dA_prev, caches[l - 2], activation, keep_prob) if l > 1 else None
        if lambd:
            dW += (lambd / m) * linear_cache[1]
        grads[f"dW{l}"], grads[f"db{l}"] = dW, db
        dZ = dZ_prev
    return grads


def fuses_relu(caches, l, activation):
    """True when layer l-1 is relu and its cached output is layer l's very A_prev (no dropout copy)."""
    if activation != "relu" or l < 2:
        return False
    (_, A_prev_relu), _ = caches[l - 2]
    (linear_cache, _), _ = caches[l - 1]
    return linear_cache[0] is A_prev_relu


def hidden_dZ(dA, cache, activation, keep_prob):
    """dZ of a hidden layer from its dA: undo dropout's mask, then the activation."""
    (_, Z), D = cache
    if D is not None:
        dA = dA * D / keep_prob
    return BACKWARD[activation](dA, Z)

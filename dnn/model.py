"""The whole network: model_forward and model_backward over L layers."""
from dnn.activations import BACKWARD
from dnn.layers import linear_activation_forward, linear_backward


def model_forward(X, parameters, activation="relu", output="sigmoid", keep_prob=1.0, rng=None):
    """[LINEAR -> activation] x (L-1) -> LINEAR -> output. Returns AL and the caches.

    With keep_prob < 1, inverted dropout masks each hidden layer's output, drawn
    from rng; the mask D is kept in the layer's cache for the backward pass.
    """
    L = len(parameters) // 2
    A = X
    caches = []
    for l in range(1, L + 1):
        act = activation if l < L else output
        A, cache = linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], act)
        if keep_prob < 1 and l < L:
            A, cache = dropout(A, cache, keep_prob, rng)
        caches.append(cache)
    return A, caches


def dropout(A, cache, keep_prob, rng):
    """Inverted dropout of a hidden layer's output A: the masked A and the layer's cache
    holding the mask D (drawn from rng) for the backward pass."""
    D = rng.random_sample(A.shape) < keep_prob  # (n, m) mask, drawn from rng
    return A * D / keep_prob, cache._replace(D=D)


def output_logits(caches):
    """The output layer's pre-activation ZL, from the caches of model_forward."""
    return caches[-1].activation_cache


def model_backward(AL, Y, caches, activation="relu", lambd=0.0, keep_prob=1.0):
    """Gradients {"dW1": ..., "db1": ..., ...} of the mean cross-entropy (+ L2).

    For sigmoid + binary and softmax + categorical cross-entropy alike, the
    output's dZ is (AL - Y) / m; dividing by m once here makes every later dW and
    db a plain sum.
    """
    m = Y.shape[1]
    L = len(caches)
    grads = {}
    dZ = (AL - Y) / m  # (n_L, m)
    for l in range(L, 0, -1):
        linear_cache = caches[l - 1].linear_cache
        dA_prev, dW, db = linear_backward(dZ, linear_cache, need_dA_prev=l > 1)
        if lambd:
            dW = dW + (lambd / m) * linear_cache.W
        grads[f"dW{l}"], grads[f"db{l}"] = dW, db
        if l > 1:
            dZ = hidden_dZ(dA_prev, caches[l - 2], activation, keep_prob)
    return grads


def hidden_dZ(dA, cache, activation, keep_prob):
    """dZ of a hidden layer from its dA: undo dropout's mask, then the activation."""
    if cache.D is not None:
        dA = dA * cache.D / keep_prob
    return BACKWARD[activation](dA, cache.activation_cache)

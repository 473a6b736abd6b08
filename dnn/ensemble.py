"""An ensemble: N networks of one config, network k trained from seed train.seed + k (its own
initialization, shuffling and dropout), predicting the mean of their output probabilities.
Averaging takes away most of what one network's score owes to its draw (measured in
docs/benchmarks.md, "One network or an ensemble"). Its cost is the cross-entropy of the
mean probabilities (dnn.metrics.cross_entropy): it has no logits.

Its parameters are one dict, so one parameters.npz holds them: the first network's W1, b1,
... as a single network's, and network k's (k >= 1) under "k/W1", "k/b1", .... A single
network is an ensemble of one, unchanged.
"""


def members(parameters):
    """The networks of parameters: a list of {"W1": ..., "b1": ..., ...}, one per network."""
    first = {k: v for k, v in parameters.items() if "/" not in k}
    others = {}
    for key, value in parameters.items():
        if "/" in key:
            k, name = key.split("/", 1)
            others.setdefault(int(k), {})[name] = value
    return [first, *(others[k] for k in sorted(others))]


def pack(networks):
    """One parameters dict of networks (a list of parameter dicts), as members() reads it."""
    packed = dict(networks[0])
    for k, network in enumerate(networks[1:], start=1):
        packed.update({f"{k}/{name}": value for name, value in network.items()})
    return packed


def is_ensemble(parameters):
    return any("/" in k for k in parameters)


def mean_proba(X, parameters, proba):
    """The mean over the networks of proba(X, network): (n_y, m) probabilities."""
    networks = members(parameters)
    total = proba(X, networks[0])
    for network in networks[1:]:
        total = total + proba(X, network)  # (n_y, m)
    return total / len(networks)


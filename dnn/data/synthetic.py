"""Generated 2-D data sets: the course's planar flower, two moons, circles.

Their default options are those of dnn.data.settings (the data config's schema).
"""
import numpy as np

from dnn.data.settings import CirclesSettings as _Circles, GeneratedSettings as _Generated

_N, _NOISE, _SEED = _Generated.n_samples, _Generated.noise, _Generated.seed


def planar(n_samples=_N, noise=_NOISE, seed=_SEED):
    """The course's planar 'flower' (a=4 petals of radius 4 sin(4t)), generated as it does.

    Returns X (2, m) and integer labels y (m,); an odd n_samples gives class 1 the extra point.
    """
    rng = np.random.RandomState(seed)
    sizes = (n_samples // 2, n_samples - n_samples // 2)  # points per class
    a = 4  # maximum ray of the flower
    X = np.zeros((n_samples, 2))
    y = np.zeros(n_samples, dtype=int)
    for j, N in enumerate(sizes):
        ix = range(sizes[0] * j, sizes[0] * j + N)
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + rng.randn(N) * noise  # theta
        r = a * np.sin(4 * t) + rng.randn(N) * noise  # radius
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X.T, y


def moons(n_samples=_N, noise=_NOISE, seed=_SEED):
    """Two interleaving half circles; X (2, m), y (m,)."""
    rng = np.random.RandomState(seed)
    n0 = n_samples // 2
    n1 = n_samples - n0
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    X = np.hstack([np.vstack([np.cos(t0), np.sin(t0)]),
                   np.vstack([1 - np.cos(t1), 0.5 - np.sin(t1)])])
    X += rng.randn(*X.shape) * noise
    y = np.r_[np.zeros(n0, dtype=int), np.ones(n1, dtype=int)]
    return X, y


def circles(n_samples=_N, noise=_Circles.noise, factor=_Circles.factor, seed=_SEED):
    """A small circle inside a large one; X (2, m), y (m,) with 1 for the inner circle."""
    rng = np.random.RandomState(seed)
    n0 = n_samples // 2
    n1 = n_samples - n0
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    X = np.hstack([np.vstack([np.cos(t0), np.sin(t0)]),
                   factor * np.vstack([np.cos(t1), np.sin(t1)])])
    X += rng.randn(*X.shape) * noise
    y = np.r_[np.zeros(n0, dtype=int), np.ones(n1, dtype=int)]
    return X, y

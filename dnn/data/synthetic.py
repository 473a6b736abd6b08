"""Generated 2-D data sets: the course's planar flower, two moons, circles."""
import numpy as np


def planar(n_samples=400, noise=0.2, seed=1):
    """The course's planar 'flower' (a=4 petals of radius 4 sin(4t)), generated as it does.

    Returns X (2, m) and integer labels y (m,).
    """
    rng = np.random.RandomState(seed)
    N = n_samples // 2  # points per class
    a = 4  # maximum ray of the flower
    X = np.zeros((n_samples, 2))
    y = np.zeros(n_samples, dtype=int)
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + rng.randn(N) * noise  # theta
        r = a * np.sin(4 * t) + rng.randn(N) * noise  # radius
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X.T, y


def moons(n_samples=400, noise=0.2, seed=1):
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


def circles(n_samples=400, noise=0.1, factor=0.5, seed=1):
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

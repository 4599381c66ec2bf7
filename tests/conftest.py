"""Test-wide settings and shared fixtures. The data source is pinned to the offline MNIST subset, so notebook
outputs checked by nbval are the same on every machine, with or without a cached full MNIST (override by
setting DL4_MNIST_SOURCE yourself). The notebooks' kernels inherit this environment."""

import os

import matplotlib
import numpy as np
import pytest
from fakes import make_blobs

os.environ.setdefault("DL4_MNIST_SOURCE", "offline")
matplotlib.use("Agg")


@pytest.fixture
def rng():
    """A fresh seeded generator for each test."""
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def blobs_of():
    """make_blobs(n, seed) -> (x, t): n samples of three well separated clouds, 20 features."""
    return make_blobs


@pytest.fixture(scope="session")
def blobs():
    """((x, t) of 300 training samples, (x, t) of 200 test samples) from make_blobs: 20 features, 3 classes."""
    return make_blobs(300, seed=0), make_blobs(200, seed=1)


@pytest.fixture(scope="session")
def fake_digits():
    """make(n_train, n_test) -> (x_train, t_train), (x_test, t_test): a small, fast stand-in for MNIST with
    its shapes (784 features in [0, 1], 10 classes): noisy copies of 10 random "digit" images."""

    def make(n_train, n_test, seed=0):
        rng = np.random.default_rng(seed)
        centres = rng.random((10, 784)).astype(np.float32)
        t = rng.integers(0, 10, n_train + n_test)
        x = np.clip(centres[t] + 0.3 * rng.standard_normal((len(t), 784)), 0, 1).astype(np.float32)
        return (x[:n_train], t[:n_train]), (x[n_train:], t[n_train:])

    return make

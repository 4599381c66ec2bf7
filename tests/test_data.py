"""load_mnist / split_validation: sources, download safety, file checks, the book's shipped images.

No test touches the network: downloads are served from memory by a fake `_open_url`.
"""

import gzip
import hashlib
import importlib.util
import io
import os
import shutil
import socket
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import helpers.data as data
from helpers.data import DownloadError, load_mnist, split_validation

NAMES = list(data.MNIST_FILES)  # train images, train labels, test images, test labels


# ---------------------------------------------------------------------------------------------------
# Fixtures: no network, a tiny fake MNIST, a fake server
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Every download fails at once; nothing reads the user's cache or DL4_MNIST_SOURCE."""

    def refuse(url, timeout):
        raise urllib.error.URLError("network disabled in tests")

    def no_connect(*args, **kwargs):
        raise AssertionError("a test tried to open a network connection")

    monkeypatch.setattr(data, "_open_url", refuse)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setenv("DL4_DATA_DIR", str(tmp_path / "default-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))  # even a bug never writes to ~/.cache
    monkeypatch.delenv("DL4_MNIST_SOURCE", raising=False)


def idx_bytes(array, magic):
    """The raw IDX encoding of a uint8 array: magic, one int32 per dimension, the bytes."""
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def make_fake_mnist(seed=0, n_train=20, n_test=10):
    """gzip'd IDX files {name: bytes} for a tiny random MNIST, and its arrays (x: (N, 784), t: (N,))."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for part, n in (("train", n_train), ("test", n_test)):
        arrays[part] = (rng.integers(0, 256, (n, 784), dtype=np.uint8), (np.arange(n) % 10).astype(np.uint8))
    raw = {
        NAMES[0]: idx_bytes(arrays["train"][0].reshape(-1, 28, 28), data.IMAGES_MAGIC),
        NAMES[1]: idx_bytes(arrays["train"][1], data.LABELS_MAGIC),
        NAMES[2]: idx_bytes(arrays["test"][0].reshape(-1, 28, 28), data.IMAGES_MAGIC),
        NAMES[3]: idx_bytes(arrays["test"][1], data.LABELS_MAGIC),
    }
    return {name: gzip.compress(content, mtime=0) for name, content in raw.items()}, arrays


def expect_files(monkeypatch, files):
    """Make `files` the official ones: patch the expected SHA-256 and sizes."""
    table = {name: (hashlib.sha256(content).hexdigest(), len(content)) for name, content in files.items()}
    monkeypatch.setattr(data, "MNIST_FILES", table)


@pytest.fixture
def fake(monkeypatch):
    files, arrays = make_fake_mnist()
    expect_files(monkeypatch, files)
    return files, arrays


def write_files(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)


def serve(monkeypatch, files, broken_mirrors=(), response=io.BytesIO):
    """Replace _open_url by a fake server of `files`; returns the list of requested URLs."""
    requested = []

    def open_url(url, timeout):
        requested.append(url)
        assert timeout <= 10, "downloads must use a short timeout"
        if url.startswith(tuple(broken_mirrors)):
            raise urllib.error.URLError("mirror down")
        return response(files[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(data, "_open_url", open_url)
    return requested


def leftovers(folder):
    """Names of all files in `folder` (temp files included)."""
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def assert_same(loaded, arrays):
    (x_train, t_train), (x_test, t_test) = loaded
    np.testing.assert_array_equal(x_train, arrays["train"][0])
    np.testing.assert_array_equal(t_train, arrays["train"][1])
    np.testing.assert_array_equal(x_test, arrays["test"][0])
    np.testing.assert_array_equal(t_test, arrays["test"][1])


# ---------------------------------------------------------------------------------------------------
# source="full": cached files, the npz cache
# ---------------------------------------------------------------------------------------------------


def test_full_source_reads_cached_idx_files_without_network(fake, tmp_path):
    files, arrays = fake
    write_files(tmp_path, files)
    loaded = load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False)
    assert_same(loaded, arrays)
    (x_train, t_train), _ = loaded
    assert x_train.dtype == np.uint8 and t_train.dtype == np.int64


def test_full_source_writes_npz_cache_and_uses_it_next_time(fake, tmp_path):
    files, arrays = fake
    write_files(tmp_path, files)
    load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False)
    assert (tmp_path / "mnist-full.npz").exists()
    for name in files:  # without the IDX files only the cache can answer
        (tmp_path / name).unlink()
    assert_same(load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False), arrays)


def test_damaged_npz_cache_is_rebuilt_from_idx_files(fake, tmp_path):
    files, arrays = fake
    write_files(tmp_path, files)
    load_mnist(source="full", cache_dir=tmp_path, verbose=False)
    cache = tmp_path / "mnist-full.npz"
    cache.write_bytes(cache.read_bytes()[:-100])
    assert_same(load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False), arrays)
    assert data._read_cache(cache, " ".join(h for h, _ in data.MNIST_FILES.values()), ["x_train", "t_train"])


def test_npz_cache_with_wrong_shapes_is_not_used(fake, tmp_path):
    files, arrays = fake
    write_files(tmp_path, files)
    key = " ".join(sha256 for sha256, _ in data.MNIST_FILES.values())
    bad = {name: np.zeros((3, 5), np.uint8) for name in ("x_train", "t_train", "x_test", "t_test")}
    np.savez(tmp_path / "mnist-full.npz", key=np.array(key), **bad)
    assert_same(load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False), arrays)


def test_npz_cache_built_from_other_files_is_not_used(monkeypatch, tmp_path):
    old_files, _ = make_fake_mnist(seed=1)
    expect_files(monkeypatch, old_files)
    write_files(tmp_path, old_files)
    load_mnist(source="full", cache_dir=tmp_path, verbose=False)

    new_files, new_arrays = make_fake_mnist(seed=2)
    expect_files(monkeypatch, new_files)
    write_files(tmp_path, new_files)
    assert_same(load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False), new_arrays)


def test_full_source_prints_size_and_folder(fake, tmp_path, capsys):
    write_files(tmp_path, fake[0])
    load_mnist(source="full", cache_dir=tmp_path)
    assert capsys.readouterr().out == f"MNIST: 전체 데이터 (훈련 20장 / 시험 10장), {tmp_path}\n"


# ---------------------------------------------------------------------------------------------------
# source="full": downloads
# ---------------------------------------------------------------------------------------------------


def test_missing_files_are_downloaded_from_the_first_mirror(fake, tmp_path, monkeypatch):
    files, arrays = fake
    requested = serve(monkeypatch, files)
    assert_same(load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False), arrays)
    assert requested == [data.MIRRORS[0] + name for name in NAMES]
    assert leftovers(tmp_path) == sorted([*NAMES, "mnist-full.npz"])
    for name, content in files.items():
        assert (tmp_path / name).read_bytes() == content
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644


def test_download_falls_back_to_the_second_mirror(fake, tmp_path, monkeypatch):
    files, arrays = fake
    requested = serve(monkeypatch, files, broken_mirrors=[data.MIRRORS[0]])
    assert_same(load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False), arrays)
    assert requested[:2] == [data.MIRRORS[0] + NAMES[0], data.MIRRORS[1] + NAMES[0]]
    assert leftovers(tmp_path) == sorted([*NAMES, "mnist-full.npz"])


def flip_a_byte(content):
    return content[:-1] + bytes([content[-1] ^ 1])


@pytest.mark.parametrize(
    ("served", "message"),
    [
        (flip_a_byte, "SHA-256 mismatch"),
        (lambda content: content[:-5], "ended after"),
        (lambda content: content + b"extra", "more than the expected"),
    ],
    ids=["wrong-checksum", "too-short", "too-long"],
)
def test_bad_download_raises_and_leaves_no_file(fake, tmp_path, monkeypatch, served, message):
    files, _ = fake
    serve(monkeypatch, {name: served(content) for name, content in files.items()})
    with pytest.raises(DownloadError, match=message) as error:
        load_mnist(source="full", cache_dir=tmp_path, verbose=False)
    assert NAMES[0] in str(error.value)
    assert all(mirror in str(error.value) for mirror in data.MIRRORS)
    assert leftovers(tmp_path) == []


class DyingResponse(io.BytesIO):
    """Serves the first half of the file in small chunks, then the connection breaks."""

    def read1(self, size=-1):
        if self.tell() >= len(self.getvalue()) // 2:
            raise ConnectionResetError("connection reset by peer")
        return super().read1(min(size, 8))


def test_download_that_dies_midway_leaves_no_partial_file(fake, tmp_path, monkeypatch):
    files, arrays = fake
    serve(monkeypatch, files, response=DyingResponse)
    with pytest.raises(DownloadError, match="connection reset"):
        load_mnist(source="full", cache_dir=tmp_path, verbose=False)
    assert leftovers(tmp_path) == []

    serve(monkeypatch, files)  # the network is back: nothing left over gets in the way
    assert_same(load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False), arrays)


def test_file_appears_only_when_its_download_is_complete_and_verified(fake, tmp_path, monkeypatch):
    files, _ = fake
    seen_during_download = []

    class WatchedResponse(io.BytesIO):
        def read1(self, size=-1):
            seen_during_download.append(leftovers(tmp_path))
            return super().read1(min(size, 500))

    serve(monkeypatch, {NAMES[0]: files[NAMES[0]]}, response=WatchedResponse)
    path = data._fetch(NAMES[0], tmp_path, verbose=False, deadline=time.monotonic() + 60)
    assert path.read_bytes() == files[NAMES[0]]
    assert len(seen_during_download) > 10
    assert all(NAMES[0] not in names for names in seen_during_download)  # only a temp file meanwhile
    assert any(len(names) == 1 and names[0].endswith(".part") for names in seen_during_download)


def test_interrupted_download_leaves_no_partial_file(fake, tmp_path, monkeypatch):
    class InterruptedResponse(io.BytesIO):
        def read1(self, size=-1):
            if self.tell() > 0:
                raise KeyboardInterrupt  # the notebook's stop button
            return super().read1(8)

    serve(monkeypatch, fake[0], response=InterruptedResponse)
    with pytest.raises(KeyboardInterrupt):
        load_mnist(source="auto", cache_dir=tmp_path, verbose=False)
    assert leftovers(tmp_path) == []


def test_cached_file_with_wrong_checksum_is_downloaded_again(fake, tmp_path, monkeypatch, capsys):
    files, arrays = fake
    write_files(tmp_path, files)
    (tmp_path / NAMES[1]).write_bytes(flip_a_byte(files[NAMES[1]]))
    requested = serve(monkeypatch, files)
    assert_same(load_mnist(normalize=False, source="full", cache_dir=tmp_path), arrays)
    assert requested == [data.MIRRORS[0] + NAMES[1]]
    assert (tmp_path / NAMES[1]).read_bytes() == files[NAMES[1]]
    assert "wrong SHA-256" in capsys.readouterr().out


def test_cached_file_with_wrong_checksum_and_no_network_raises_clear_error(fake, tmp_path):
    files, _ = fake
    write_files(tmp_path, files)
    (tmp_path / NAMES[2]).write_bytes(flip_a_byte(files[NAMES[2]]))
    with pytest.raises(DownloadError, match=f"{NAMES[2]}.*wrong SHA-256"):
        load_mnist(source="full", cache_dir=tmp_path, verbose=False)
    assert "mnist-full.npz" not in leftovers(tmp_path)


# ---------------------------------------------------------------------------------------------------
# Parsing the IDX files
# ---------------------------------------------------------------------------------------------------


def cache_and_load(monkeypatch, folder, files):
    """Put `files` in the cache as if they were the official ones, then load them."""
    expect_files(monkeypatch, files)
    write_files(folder, files)
    return load_mnist(source="full", cache_dir=folder, verbose=False)


@pytest.mark.parametrize(
    "truncate",
    [
        lambda content: gzip.compress(gzip.decompress(content)[:-30], mtime=0),  # complete gzip, short IDX
        lambda content: content[: len(content) // 2],  # the gzip stream itself is cut off
        lambda content: gzip.compress(gzip.decompress(content)[:10], mtime=0),  # not even a whole header
    ],
    ids=["idx-data", "gzip-stream", "idx-header"],
)
def test_truncated_idx_file_raises_clear_error(fake, tmp_path, monkeypatch, truncate):
    files = dict(fake[0])
    files[NAMES[0]] = truncate(files[NAMES[0]])
    with pytest.raises(ValueError, match=rf"{NAMES[0]}.*(truncated|not a complete gzip)"):
        cache_and_load(monkeypatch, tmp_path, files)
    assert "mnist-full.npz" not in leftovers(tmp_path)


def test_idx_file_with_bad_magic_number_raises_clear_error(fake, tmp_path, monkeypatch):
    files = dict(fake[0])
    labels = gzip.decompress(files[NAMES[3]])
    files[NAMES[3]] = gzip.compress(data.IMAGES_MAGIC.to_bytes(4, "big") + labels[4:], mtime=0)
    with pytest.raises(ValueError, match=rf"{NAMES[3]}.*magic number 2051, expected 2049"):
        cache_and_load(monkeypatch, tmp_path, files)
    assert "mnist-full.npz" not in leftovers(tmp_path)


def test_images_and_labels_must_have_the_same_count(fake, tmp_path, monkeypatch):
    files = dict(fake[0])
    files[NAMES[1]] = gzip.compress(idx_bytes(np.zeros(19, np.uint8), data.LABELS_MAGIC), mtime=0)
    with pytest.raises(ValueError, match="20 images but .* 19 labels"):
        cache_and_load(monkeypatch, tmp_path, files)


def test_images_must_be_28_by_28(fake, tmp_path, monkeypatch):
    files = dict(fake[0])
    files[NAMES[2]] = gzip.compress(idx_bytes(np.zeros((10, 14, 14), np.uint8), data.IMAGES_MAGIC), mtime=0)
    with pytest.raises(ValueError, match=rf"{NAMES[2]}.*28x28"):
        cache_and_load(monkeypatch, tmp_path, files)


def test_labels_must_be_digits(fake, tmp_path, monkeypatch):
    files = dict(fake[0])
    files[NAMES[3]] = gzip.compress(idx_bytes(np.full(10, 10, np.uint8), data.LABELS_MAGIC), mtime=0)
    with pytest.raises(ValueError, match=rf"{NAMES[3]}.*0..9"):
        cache_and_load(monkeypatch, tmp_path, files)


# ---------------------------------------------------------------------------------------------------
# source="offline": the book's images, shipped in helpers/book_mnist.npz
# ---------------------------------------------------------------------------------------------------

OFFICIAL = Path(__file__).parent / "data"  # the official label files (the test images' hash is pinned below)
BOOK_FILE_SHA256 = "f0bdff6569c2f37553c890d16fe73fc52398db7da7f22de08bc90336a5b9ba10"
X_TRAIN_SHA256 = "8604d3bb859eced962f3a1cd77db511a74aa18ce39d22db9962589029c491080"  # official x_train[:4502]
X_TEST_SHA256 = "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"  # official t10k images


def official_labels(name):
    path = OFFICIAL / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == data.MNIST_FILES[name][0], f"{path} is not official"
    return data.read_idx(path, data.LABELS_MAGIC)


def sha256_of_array(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def test_shipped_file_is_the_pinned_one():
    assert data.BOOK_FILE_SHA256 == BOOK_FILE_SHA256
    assert hashlib.sha256(data.BOOK_FILE.read_bytes()).hexdigest() == BOOK_FILE_SHA256


def test_shipped_images_are_the_official_first_4502_training_and_all_test_images():
    (x_train, t_train), (x_test, t_test) = data.load_book_images()
    assert sha256_of_array(x_train) == X_TRAIN_SHA256 and x_train.shape == (4502, 784)
    assert sha256_of_array(x_test) == X_TEST_SHA256 and x_test.shape == (10000, 784)
    np.testing.assert_array_equal(t_train, official_labels("train-labels-idx1-ubyte.gz")[:4502])
    np.testing.assert_array_equal(t_test, official_labels("t10k-labels-idx1-ubyte.gz"))


def test_offline_source_has_the_book_shapes_dtypes_and_range(capsys):
    (x_train, t_train), (x_test, t_test) = load_mnist(source="offline")
    assert x_train.shape == (4502, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.float32 and x_train.min() >= 0 and x_train.max() == 1
    assert t_train.dtype == np.int64 and set(np.unique(t_test)) == set(range(10))
    assert "x_train[:4502]" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("options", "x_shape", "x_dtype", "t_shape", "t_dtype"),
    [
        ({"normalize": False}, (4502, 784), np.uint8, (4502,), np.int64),
        ({"flatten": False}, (4502, 1, 28, 28), np.float32, (4502,), np.int64),
        ({"one_hot_label": True}, (4502, 784), np.float32, (4502, 10), np.float32),
    ],
)
def test_offline_options_change_shapes_and_dtypes(options, x_shape, x_dtype, t_shape, t_dtype):
    (x, t), _ = load_mnist(source="offline", verbose=False, **options)
    assert x.shape == x_shape and x.dtype == x_dtype and t.shape == t_shape and t.dtype == t_dtype
    (x_uint8, labels), _ = data.load_book_images()
    np.testing.assert_array_equal(x.reshape(len(x), -1), x_uint8 if x.dtype == np.uint8 else x_uint8 / np.float32(255))
    np.testing.assert_array_equal(t.argmax(axis=1) if t.ndim == 2 else t, labels)


@pytest.fixture
def book_copy(tmp_path, monkeypatch):
    """A copy of the shipped file that a test may damage; load_mnist reads the copy."""
    path = tmp_path / "book_mnist.npz"
    shutil.copy(data.BOOK_FILE, path)
    monkeypatch.setattr(data, "BOOK_FILE", path)
    return path


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda path: path.unlink(), "cannot be read"),
        (lambda path: path.write_bytes(path.read_bytes()[:-1000]), "damaged or altered"),
        (lambda path: path.write_bytes(flip_a_byte(path.read_bytes())), "damaged or altered"),
    ],
    ids=["missing", "truncated", "altered"],
)
def test_missing_truncated_or_altered_book_file_raises_clear_error(book_copy, damage, message):
    damage(book_copy)
    with pytest.raises(data.BookFileError, match=rf"{message}.*git checkout -- helpers/book_mnist.npz"):
        load_mnist(source="offline", verbose=False)


def test_book_file_with_the_right_hash_but_wrong_arrays_is_refused(book_copy, monkeypatch):
    np.savez(
        book_copy,
        x_train=np.zeros((3, 784), np.uint8),
        t_train=np.zeros(3, np.uint8),
        x_test=np.zeros((3, 784), np.uint8),
        t_test=np.zeros(3, np.uint8),
    )
    monkeypatch.setattr(data, "BOOK_FILE_SHA256", hashlib.sha256(book_copy.read_bytes()).hexdigest())
    with pytest.raises(data.BookFileError, match=r"x_train is uint8 \(3, 784\), expected uint8 \(4502, 784\)"):
        load_mnist(source="offline", verbose=False)


def test_build_script_rebuilds_the_shipped_file_byte_for_byte(tmp_path, monkeypatch):
    """The script's reproducible zip writer gives the pinned bytes from the shipped arrays."""
    spec = importlib.util.spec_from_file_location("build", Path(__file__).parents[1] / "scripts/build_book_mnist.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    (x_train, t_train), (x_test, t_test) = data.load_book_images()
    build.write_npz(
        tmp_path / "again.npz", {"x_train": x_train, "t_train": t_train, "x_test": x_test, "t_test": t_test}
    )
    assert hashlib.sha256((tmp_path / "again.npz").read_bytes()).hexdigest() == BOOK_FILE_SHA256


# ---------------------------------------------------------------------------------------------------
# source="auto" and DL4_MNIST_SOURCE
# ---------------------------------------------------------------------------------------------------


def test_auto_falls_back_to_the_book_images_when_downloads_fail(tmp_path, capsys, monkeypatch):
    requested = []

    def refuse(url, timeout):
        requested.append(url)
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(data, "_open_url", refuse)
    (x_train, _), (x_test, _) = load_mnist(cache_dir=tmp_path)
    assert requested == [mirror + NAMES[0] for mirror in data.MIRRORS]  # each mirror tried once, then it gives up
    assert len(x_train) == 4502 and len(x_test) == 10000
    out = capsys.readouterr().out
    for mirror in data.MIRRORS:  # the whole reason, every mirror's line, not only the first line
        assert f"{mirror}{NAMES[0]}: <urlopen error network disabled in tests>" in out
    assert "x_train[:4502]" in out
    assert leftovers(tmp_path) == [data.FAILURE_MARKER]


def test_auto_remembers_a_failed_download_and_does_not_wait_again(tmp_path, capsys, monkeypatch):
    load_mnist(cache_dir=tmp_path, verbose=False)
    monkeypatch.setattr(data, "_open_url", lambda url, timeout: pytest.fail("downloaded again"))
    (x_train, _), _ = load_mnist(cache_dir=tmp_path)
    assert len(x_train) == 4502
    assert "network disabled in tests" in capsys.readouterr().out
    marker = tmp_path / data.FAILURE_MARKER  # an hour later it tries again
    old = time.time() - data.FAILURE_MEMORY - 1
    os.utime(marker, (old, old))
    with pytest.raises(pytest.fail.Exception, match="downloaded again"):
        load_mnist(cache_dir=tmp_path, verbose=False)


def test_auto_tries_again_after_a_success_clears_the_memory(fake, tmp_path, monkeypatch):
    files, arrays = fake
    load_mnist(cache_dir=tmp_path, verbose=False)  # fails: remembered
    serve(monkeypatch, files)
    assert_same(load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False), arrays)
    assert data.FAILURE_MARKER not in leftovers(tmp_path)


class TrickleResponse(io.BytesIO):
    """One byte at a time, each after a short wait: never a stall long enough for the socket timeout."""

    def read1(self, size=-1):
        time.sleep(0.01)
        return super().read1(1)


def test_a_trickling_download_stops_at_the_overall_deadline(fake, tmp_path, monkeypatch):
    files, _ = fake
    serve(monkeypatch, files, response=TrickleResponse)
    monkeypatch.setattr(data, "AUTO_DEADLINE", 0.5)
    started = time.monotonic()
    (x_train, _), _ = load_mnist(cache_dir=tmp_path, verbose=False)
    assert time.monotonic() - started < 5
    assert len(x_train) == 4502  # the book's images instead
    assert "timed out" in (tmp_path / data.FAILURE_MARKER).read_text()
    assert leftovers(tmp_path) == [data.FAILURE_MARKER]


def test_a_temp_file_left_by_a_killed_download_is_removed_by_the_next(fake, tmp_path, monkeypatch):
    files, arrays = fake
    stale = tmp_path / f".{NAMES[0]}.abc123.part"  # what a SIGKILL mid-download leaves
    stale.write_bytes(b"half a file")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    serve(monkeypatch, files)
    assert_same(load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False), arrays)
    assert not stale.exists()


def test_auto_uses_the_full_set_when_its_files_are_cached(fake, tmp_path):
    files, arrays = fake
    write_files(tmp_path, files)
    assert_same(load_mnist(normalize=False, cache_dir=tmp_path, verbose=False), arrays)


def test_environment_variable_overrides_auto_only(fake, tmp_path, monkeypatch):
    files, arrays = fake
    write_files(tmp_path, files)
    monkeypatch.setenv("DL4_MNIST_SOURCE", "offline")
    (x_train, _), _ = load_mnist(cache_dir=tmp_path, verbose=False)
    assert len(x_train) == 4502
    assert_same(load_mnist(normalize=False, source="full", cache_dir=tmp_path, verbose=False), arrays)


def test_bad_environment_variable_raises_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DL4_MNIST_SOURCE", "internet")
    with pytest.raises(ValueError, match="DL4_MNIST_SOURCE.*'offline'.*'internet'"):
        load_mnist(cache_dir=tmp_path, verbose=False)


def test_verbose_false_prints_nothing(tmp_path, capsys):
    load_mnist(cache_dir=tmp_path, verbose=False)
    assert capsys.readouterr().out == ""


def test_cache_folder_comes_from_argument_then_environment_then_user_cache(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("DL4_DATA_DIR", str(tmp_path / "from-env"))
    assert data.default_cache_dir() == tmp_path / "from-env"
    monkeypatch.delenv("DL4_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.default_cache_dir() == tmp_path / "xdg" / "dl-fundamentals-4" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.default_cache_dir() == tmp_path / "home" / ".cache" / "dl-fundamentals-4" / "mnist"

    write_files(tmp_path / "from-env", fake[0])
    monkeypatch.setenv("DL4_DATA_DIR", str(tmp_path / "from-env"))
    assert_same(load_mnist(normalize=False, source="full", verbose=False), fake[1])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"source": "internet"}, ValueError, "source must be one of 'auto', 'full', 'offline', got 'internet'"),
        ({"normalize": 1}, TypeError, "normalize must be True or False, got 1"),
        ({"flatten": "no"}, TypeError, "flatten must be True or False, got 'no'"),
        ({"one_hot_label": None}, TypeError, "one_hot_label must be True or False, got None"),
        ({"verbose": 0}, TypeError, "verbose must be True or False, got 0"),
        ({"cache_dir": 3}, TypeError, "cache_dir must be a folder path or None, got 3"),
    ],
)
def test_bad_arguments_raise_errors_naming_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        load_mnist(**kwargs)


# ---------------------------------------------------------------------------------------------------
# split_validation
# ---------------------------------------------------------------------------------------------------


def toy_set(n=50):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return x, np.arange(n)


def test_split_validation_sizes_and_pairs():
    x, t = toy_set()
    (x_train, t_train), (x_val, t_val) = split_validation(x, t, ratio=0.2, seed=0)
    assert len(x_train) == len(t_train) == 40 and len(x_val) == len(t_val) == 10
    np.testing.assert_array_equal(x_train, x[t_train])  # each x still has its own t
    np.testing.assert_array_equal(x_val, x[t_val])


def test_split_validation_has_no_overlap_and_loses_nothing():
    x, t = toy_set()
    (_, t_train), (_, t_val) = split_validation(x, t, ratio=0.3, seed=1)
    assert not set(t_train) & set(t_val)
    assert sorted([*t_train, *t_val]) == list(range(50))
    assert len(t_val) == round(0.3 * 50)


def test_split_validation_is_deterministic_and_shuffles():
    x, t = toy_set()
    first, second = split_validation(x, t, seed=3), split_validation(x, t, seed=3)
    np.testing.assert_array_equal(first[1][1], second[1][1])
    other = split_validation(x, t, seed=4)
    assert not np.array_equal(first[1][1], other[1][1])
    assert not np.array_equal(first[1][1], t[:10]) and not np.array_equal(first[1][1], t[-10:])


@pytest.mark.parametrize(
    ("n", "kwargs", "error", "message"),
    [
        (50, {"ratio": 0}, ValueError, "ratio must be in"),
        (50, {"ratio": 1.0}, ValueError, "ratio must be in"),
        (50, {"ratio": -0.5}, ValueError, "ratio must be in"),
        (50, {"ratio": "0.2"}, TypeError, "ratio must be a number"),
        (10, {"ratio": 0.01}, ValueError, "ratio=0.01 leaves 0 validation samples out of 10"),
        (10, {"ratio": 0.99}, ValueError, "ratio=0.99 leaves 0 training samples out of 10"),
        (50, {"seed": -1}, ValueError, "seed must be an integer"),
        (50, {"seed": 1.5}, TypeError, "seed must be an integer"),
    ],
)
def test_split_validation_bad_arguments_raise_errors_naming_them(n, kwargs, error, message):
    x, t = toy_set(n)
    with pytest.raises(error, match=message):
        split_validation(x, t, **kwargs)


def test_split_validation_rejects_mismatched_lengths():
    x, t = toy_set()
    with pytest.raises(ValueError, match="x and t must have the same length, got 50 and 49"):
        split_validation(x, t[:-1])


@pytest.mark.parametrize(
    ("x", "t", "error", "message"),
    [
        (1, 2, ValueError, "x must be an array of samples, one per row, got the single value 1"),
        ([[0.0, np.nan]] * 10, np.arange(10), ValueError, "x must be finite, but 10 of its 20 values"),
        ([["a"]] * 10, np.arange(10), TypeError, "x must be an array of numbers"),
        (np.zeros((10, 2)), [None] * 10, TypeError, "t must be an array of numbers"),
    ],
)
def test_split_validation_rejects_what_is_not_an_array_of_samples(x, t, error, message):
    with pytest.raises(error, match=message):
        split_validation(x, t)

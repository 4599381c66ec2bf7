"""helpers.checks: each check names the argument, shows the bad value and says what is allowed."""

import numpy as np
import pytest

from helpers.checks import check_array, check_flag, check_number, check_same_length, check_seed


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_flag_accepts_true_and_false(value):
    assert check_flag("use_batchnorm", value) is bool(value)


@pytest.mark.parametrize("value", ["False", "no", 0, 1, None])
def test_check_flag_refuses_strings_and_numbers(value):
    with pytest.raises(TypeError, match=f"use_batchnorm must be True or False, got {value!r}"):
        check_flag("use_batchnorm", value)


@pytest.mark.parametrize("value", [0, 7, np.int64(3), 2**40])
def test_check_seed_accepts_integers_from_zero(value):
    assert check_seed("seed", value) == value


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        (-1, ValueError, r"seed must be an integer in \[0, inf\], got -1"),
        (1.5, TypeError, r"seed must be an integer >= 0 \(a seed\), got 1.5"),
        ("a", TypeError, "seed must be an integer >= 0"),
        (None, TypeError, "seed must be an integer >= 0"),
        (True, TypeError, "seed must be an integer >= 0"),
    ],
)
def test_check_seed_refuses_negative_float_str_and_none(value, error, words):
    with pytest.raises(error, match=words):
        check_seed("seed", value)


def test_check_number_refuses_an_int_too_large_for_a_float():
    with pytest.raises(ValueError, match="lr must be a finite number"):
        check_number("lr", 10**400)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_array_refuses_nan_and_inf_and_counts_them(bad):
    values = np.zeros((3, 4), dtype=np.float32)
    values[1, 2] = bad
    with pytest.raises(ValueError, match="x_train must be finite, but 1 of its 12 values are NaN or infinite"):
        check_array("x_train", values)


def test_check_array_accepts_finite_floats_and_integers():
    assert check_array("x", [[0.5, 1.0]]).shape == (1, 2)
    assert check_array("t", np.arange(3, dtype=np.uint8)).dtype == np.uint8


def test_check_same_length_refuses_single_numbers():
    with pytest.raises(ValueError, match="x must be an array of samples, one per row, got the single value 1"):
        check_same_length("x", np.asarray(1), "t", np.asarray(2))

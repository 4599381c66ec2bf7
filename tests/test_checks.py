"""helpers.checks, each check once and thoroughly: it names the argument, shows the bad value and says what is
allowed. The modules that use a check have one test each that they do (in their own test files)."""

import numpy as np
import pytest

from helpers.checks import (
    check_array,
    check_choice,
    check_flag,
    check_int,
    check_number,
    check_same_length,
    check_seed,
)


@pytest.mark.parametrize(("value", "expected"), [(0.5, 0.5), (3, 3.0), (np.float32(0.25), 0.25), (np.int64(2), 2.0)])
def test_check_number_returns_a_python_float(value, expected):
    result = check_number("lr", value)
    assert type(result) is float and result == expected


@pytest.mark.parametrize("value", ["0.1", None, True, [0.1], 1j])
def test_check_number_refuses_non_numbers_and_bools(value):
    with pytest.raises(
        TypeError, match=rf"^lr must be a number, got {value!r} \({type(value).__name__}\)$".replace("[", r"\[")
    ):
        check_number("lr", value)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_check_number_refuses_nan_and_inf(value):
    with pytest.raises(ValueError, match="^lr must be a finite number, got"):
        check_number("lr", value)


def test_check_number_refuses_an_int_too_large_for_a_float():
    with pytest.raises(
        ValueError, match=r"lr must be a finite number, got one too large for a float \(above 1.8e308\)"
    ):
        check_number("lr", 10**400)


@pytest.mark.parametrize(
    ("kwargs", "value", "interval"),
    [
        ({"low": 0}, -0.5, r"\[0, inf\]"),
        ({"low": 0, "low_open": True}, 0.0, r"\(0, inf\]"),
        ({"high": 1}, 1.5, r"\[-inf, 1\]"),
        ({"low": 0, "high": 1, "high_open": True}, 1.0, r"\[0, 1\)"),
    ],
)
def test_check_number_refuses_values_outside_the_range_showing_the_interval(kwargs, value, interval):
    with pytest.raises(ValueError, match=rf"^ratio must be in {interval}, got {value!r}$"):
        check_number("ratio", value, **kwargs)


def test_check_number_accepts_the_closed_ends_of_a_range():
    assert check_number("ratio", 0, low=0, high=1) == 0.0
    assert check_number("ratio", 1, low=0, high=1) == 1.0


@pytest.mark.parametrize("value", [0, 5, np.int64(7), 2**40])
def test_check_int_returns_a_python_int(value):
    result = check_int("epochs", value, low=0)
    assert type(result) is int and result == value


@pytest.mark.parametrize("value", [2.0, 2.5, "3", None, True, np.float64(1)])
def test_check_int_refuses_floats_strings_and_bools(value):
    with pytest.raises(TypeError, match=r"^epochs must be an integer, got "):
        check_int("epochs", value)


@pytest.mark.parametrize(
    ("kwargs", "value", "words"),
    [
        ({"low": 1}, 0, r"\[1, inf\], got 0"),
        ({"high": 10}, 11, r"\[-inf, 10\], got 11"),
        ({"low": 1, "high": 3}, 4, r"\[1, 3\]"),
    ],
)
def test_check_int_refuses_values_outside_the_range(kwargs, value, words):
    with pytest.raises(ValueError, match=f"^batch_size must be an integer in {words}"):
        check_int("batch_size", value, **kwargs)


@pytest.mark.parametrize("value", [0, 7, np.int64(3), 2**40])
def test_check_seed_accepts_integers_from_zero(value):
    assert check_seed("seed", value) == value


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        (-1, ValueError, r"^seed must be an integer in \[0, inf\], got -1$"),
        (1.5, TypeError, r"^seed must be an integer >= 0 \(a seed\), got 1.5 \(float\)$"),
        ("a", TypeError, r"^seed must be an integer >= 0 \(a seed\), got 'a' \(str\)$"),
        (None, TypeError, r"^seed must be an integer >= 0 \(a seed\), got None"),
        (True, TypeError, r"^seed must be an integer >= 0 \(a seed\), got True"),
    ],
)
def test_check_seed_refuses_negative_float_str_none_and_bool(value, error, words):
    with pytest.raises(error, match=words):
        check_seed("seed", value)


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_flag_accepts_true_and_false(value):
    assert check_flag("use_batchnorm", value) is bool(value)


@pytest.mark.parametrize("value", ["False", "no", 0, 1, None])
def test_check_flag_refuses_strings_and_numbers(value):
    with pytest.raises(TypeError, match=f"^use_batchnorm must be True or False, got {value!r}"):
        check_flag("use_batchnorm", value)


def test_check_choice_returns_an_allowed_value_and_lists_the_allowed_ones_otherwise():
    assert check_choice("activation", "relu", ("relu", "sigmoid")) == "relu"
    with pytest.raises(ValueError, match=r"^activation must be one of 'relu', 'sigmoid', got 'tanh'$"):
        check_choice("activation", "tanh", ("relu", "sigmoid"))


def test_check_array_accepts_finite_floats_integers_and_lists():
    assert check_array("x", [[0.5, 1.0]]).shape == (1, 2)
    assert check_array("t", np.arange(3, dtype=np.uint8)).dtype == np.uint8
    x = np.zeros((2, 3), dtype=np.float32)
    assert check_array("x", x) is x  # no copy


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_array_refuses_nan_and_inf_and_counts_them(bad):
    values = np.zeros((3, 4), dtype=np.float32)
    values[1, 2] = bad
    with pytest.raises(ValueError, match="^x_train must be finite, but 1 of its 12 values are NaN or infinite$"):
        check_array("x_train", values)


def test_check_array_finds_a_nan_among_large_finite_values():
    values = np.full((4, 5), 3e38, dtype=np.float32)  # their sum overflows, though each is finite
    assert check_array("x", values) is values
    values[3, 4] = np.nan
    with pytest.raises(ValueError, match="1 of its 20 values"):
        check_array("x", values)


@pytest.mark.parametrize("value", [["a", "b"], np.array(["1.0"]), [None, 1], [[1, 2], [3]]])
def test_check_array_refuses_non_numbers(value):
    with pytest.raises(TypeError, match="^x must be an array of numbers"):
        check_array("x", value)


def test_check_array_checks_the_number_of_dimensions():
    assert check_array("x", np.zeros((2, 3)), ndim=2).ndim == 2
    assert check_array("x", np.zeros(3), ndim=(1, 2)).ndim == 1
    with pytest.raises(ValueError, match=r"^x must have 2 dimensions, got shape \(3,\)$"):
        check_array("x", np.zeros(3), ndim=2)


def test_check_same_length_accepts_equal_lengths():
    check_same_length("x", np.zeros((3, 2)), "t", np.zeros(3))


def test_check_same_length_refuses_different_lengths_empty_arrays_and_single_numbers():
    with pytest.raises(ValueError, match="^x and t must have the same length, got 3 and 4$"):
        check_same_length("x", np.zeros((3, 2)), "t", np.zeros(4))
    with pytest.raises(ValueError, match="^x is empty: at least one sample is needed$"):
        check_same_length("x", np.zeros((0, 2)), "t", np.zeros(0))
    with pytest.raises(ValueError, match="^t must be an array of samples, one per row, got the single value 2$"):
        check_same_length("x", np.zeros((1, 2)), "t", np.asarray(2))

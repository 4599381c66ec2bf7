"""Argument checks that raise clear errors where a user passes a value.

Each check names the argument, shows the bad value and says what is allowed, so a student
sees `ValueError: lr must be a positive number, got -0.1` instead of a NumPy traceback.
"""

import numbers

import numpy as np


def check_number(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """Return `value` as a float after checking it is a real number in the given range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    try:
        value = float(value)
    except OverflowError:  # an int such as 10**400 is too large for a float
        raise ValueError(f"{name} must be a finite number, got one too large for a float (above 1.8e308)") from None
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right}, got {value!r}")
    return value


def check_int(name, value, *, low=None, high=None):
    """Return `value` as an int after checking it is an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value}")
    return value


def check_seed(name, value):
    """A seed for np.random.default_rng: an integer >= 0 (None, which would mean "random", is refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 0 (a seed), got {value!r} ({type(value).__name__})")
    return check_int(name, value, low=0)


def check_flag(name, value):
    """True or False; a string such as "False" is refused (it would count as True)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_choice(name, value, choices):
    """`value` must be one of `choices` (strings such as activation names)."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_array(name, value, *, ndim=None):
    """Return `value` as a NumPy array; it must be numeric and finite (no NaN or inf)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of numbers: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of numbers, got dtype {array.dtype}")
    if ndim is not None and array.ndim not in np.atleast_1d(ndim):
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {array.shape}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = array.size - np.count_nonzero(np.isfinite(array))
        raise ValueError(f"{name} must be finite, but {bad} of its {array.size} values are NaN or infinite")
    return array


def check_same_length(x_name, x, t_name, t):
    """x and t (arrays) must hold the same number of samples, at least one."""
    for name, array in ((x_name, x), (t_name, t)):
        if array.ndim == 0:
            raise ValueError(f"{name} must be an array of samples, one per row, got the single value {array.item()!r}")
    if len(x) != len(t):
        raise ValueError(f"{x_name} and {t_name} must have the same length, got {len(x)} and {len(t)}")
    if len(x) == 0:
        raise ValueError(f"{x_name} is empty: at least one sample is needed")

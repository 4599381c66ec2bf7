"""Checkers for the implement-it-yourself cells: each says in a line or two what is right, or what is wrong and why.

    check_batchnorm_forward(fn)                        01  batchnorm_forward(x, gamma, beta, eps) -> (out, cache)
    check_batchnorm_backward(forward_fn, backward_fn)  01  batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)
    check_weight_decay(fn)                             02  weight_decay(weights, lam) -> (penalty, grads)
    check_dropout(forward_fn, backward_fn)             03  dropout_forward(x, dropout_ratio, train, rng) -> (out, mask)
                                                           dropout_backward(dout, mask) -> dx
    check_log_uniform(fn)                              04  sample_log_uniform(low, high, size, rng) -> values
    check_narrow(fn)                                   04  narrow(trials, top_k) -> {name: (low, high)}
    show_solution(name)                                prints the answer (from helpers.solutions)
    STUBS[name]                                        the code an exercise cell starts from

A checker calls the student's function on a few fixed inputs (several shapes, values chosen so that the common
slips give visibly different outputs), compares the outputs with helpers.solutions - and a backward with a
float64 numerical gradient - prints its verdict and returns True or False. A wrong answer never raises: an
exception inside the student's function, a wrong type or shape, NaN, a stub that still returns None, each is a
verdict. When a wrong output matches a known slip (the variance divided by N - 1, ...), the verdict names it.
"""

import inspect
import math
import warnings

import numpy as np

from helpers import solutions
from helpers.gradcheck import numerical_gradient, rel_error
from helpers.lang import tr

GRAD_TOL = 1e-6  # relative error between an analytic and a numerical gradient that counts as equal
RTOL, ATOL = 1e-6, 1e-9  # a float64 output counts as right within these of the answer
SLIP_RTOL = 1e-9  # a wrong output is named as a known slip only if it matches that slip this closely


class _Wrong(Exception):
    """Stops a check at the first problem; its message is the verdict the student reads."""


# --- Calling the student's function ------------------------------------------------------------------------------


def _check_function(name, fn):
    if not callable(fn):
        raise TypeError(f"{name} must be a function (the one you wrote), got {fn!r} ({type(fn).__name__})")


def _snapshot(value):
    """A copy of an array or a list of arrays, to see afterwards whether the student's function changed it."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list) and all(isinstance(item, np.ndarray) for item in value):
        return [item.copy() for item in value]
    return None


def _unchanged(value, snapshot):
    if isinstance(snapshot, list):
        return len(value) == len(snapshot) and all(np.array_equal(a, b) for a, b in zip(value, snapshot, strict=True))
    return np.array_equal(value, snapshot)


def _call(fn, name, args, own=()):
    """fn(*args.values()): the student's exceptions and warnings become verdicts; None means still the stub.

    args: {parameter name: value}, in order. An array argument the function changes in place is a mistake
    (the caller's array would change too), except those named in `own` (objects the student's code made).
    """
    snapshots = {arg: _snapshot(value) for arg, value in args.items() if arg not in own}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = fn(*args.values())
    except Exception as error:  # the student's bug, whatever it is, is reported, not raised
        raise _Wrong(
            tr(
                f"{name} 실행 중 오류가 났습니다. {type(error).__name__}: {error}",
                f"{name} raised an error. {type(error).__name__}: {error}",
            )
        ) from None
    if result is None:
        raise _Wrong(
            tr(
                f"아직 구현하지 않았습니다: {name}의 반환값이 None입니다. 주석의 식을 보고 코드를 채워 보세요.",
                f"Not implemented yet: {name} returns None. Fill in the code from the equation in the comment.",
            )
        )
    for arg, snapshot in snapshots.items():
        if snapshot is not None and not _unchanged(args[arg], snapshot):
            raise _Wrong(
                tr(
                    f"{name}에서 입력 {arg}의 값이 바뀌었습니다. "
                    "-=, *= 같은 제자리(in place) 연산 대신 새 배열을 만드세요.",
                    f"{name} changed its input {arg} in place. Make a new array instead of using -=, *= and the like.",
                )
            )
    return result


def _unpack(result, name, parts):
    """The tuple a function returns, checked to have the named parts: (out, cache) -> [out, cache]."""
    wanted = ", ".join(parts)
    if not isinstance(result, (tuple, list)) or len(result) != len(parts):
        got = f"{len(result)}개" if isinstance(result, (tuple, list)) else type(result).__name__
        got_en = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        raise _Wrong(
            tr(
                f"{name}의 반환값은 ({wanted}) {len(parts)}개를 담은 튜플이어야 하는데, 지금은 {got}입니다.",
                f"{name} must return the tuple ({wanted}), it returned {got_en}.",
            )
        )
    return list(result)


def _axis_hint():
    return tr(" 어느 축(axis)으로 계산했는지 확인해 보세요.", " Check the axis you computed along.")


def _as_array(value, what, shape, shape_hint=""):
    """The student's output as a float array of the given shape, all finite; a verdict otherwise.
    shape_hint: a sentence added when the shape is wrong."""
    if value is None:
        raise _Wrong(tr(f"{what}의 값이 None입니다.", f"{what} is None."))
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _Wrong(
            tr(
                f"{what}의 값은 숫자 배열이어야 하는데 {type(value).__name__}입니다.",
                f"{what} must be an array of numbers, got {type(value).__name__}.",
            )
        ) from None
    if array.shape != shape:
        raise _Wrong(
            tr(
                f"{what}의 모양이 {array.shape}인데 {shape}이어야 합니다.{shape_hint}",
                f"{what} has shape {array.shape}, it should be {shape}.{shape_hint}",
            )
        )
    if not np.isfinite(array).all():
        bad = array.size - np.count_nonzero(np.isfinite(array))
        raise _Wrong(
            tr(
                f"{what}에 NaN이나 무한대가 {bad}개 있습니다. 0으로 나누는 곳이 없는지 확인해 보세요.",
                f"{what} has {bad} NaN or infinite values. Look for a division by zero.",
            )
        )
    return array


def _close(got, expected, rtol=RTOL, atol=ATOL):
    return got.shape == np.shape(expected) and np.allclose(got, expected, rtol=rtol, atol=atol)


def _max_error(got, expected):
    return float(np.max(np.abs(got - expected)))


def _named_slip(got, slips):
    """The hint of the first known slip whose output `got` matches, or None. slips: [(output, hint)]."""
    for output, hint in slips:
        with np.errstate(all="ignore"):
            if _close(got, output, rtol=SLIP_RTOL, atol=1e-12):
                return hint
    return None


def _run(title, check):
    """Print the title and the verdict of check() (which returns the success line or raises _Wrong)."""
    print(title)
    try:
        summary = check()
    except _Wrong as wrong:
        print(f"✗ {wrong}")
        return False
    print(f"✓ {summary}")
    return True


# --- 01. Batch normalization -------------------------------------------------------------------------------------

BN_EQUATIONS = "μ = 1/N Σ x_i,  σ² = 1/N Σ (x_i − μ)²,  x̂ = (x − μ)/√(σ² + ε),  y = γ x̂ + β"
# (shape of x, eps, mean and std of x's entries): square (a wrong axis still broadcasts), N != D, N = 2, D = 1;
# eps large next to the variance in some, so that ε outside the square root, or missing, shows.
BATCHNORM_CASES = (
    ((4, 4), 1e-3, 3.0, 2.0),
    ((6, 3), 0.1, -1.0, 0.5),
    ((2, 5), 0.05, 0.5, 1.0),
    ((7, 1), 1e-4, 10.0, 3.0),
)


def _batchnorm_cases():
    """(x, gamma, beta, eps) for each of BATCHNORM_CASES, float64, the same on every call."""
    rng = np.random.default_rng(15)
    cases = []
    for shape, eps, mean, std in BATCHNORM_CASES:
        x = mean + std * rng.standard_normal(shape)
        d = shape[1]
        gamma = rng.uniform(0.5, 2.0, d)
        beta = rng.uniform(-1.0, 1.0, d)
        cases.append((x, gamma, beta, eps))
    return cases


def _describe_batchnorm_case(x, eps):
    return tr(f"x의 모양 {x.shape}, eps={eps:g}일 때", f"for x of shape {x.shape}, eps={eps:g}")


def _normalize(x, mu, var, gamma, beta, eps):
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def _batchnorm_forward_slips(x, gamma, beta, eps):
    """[(out, hint)] of the common slips in the forward pass."""
    n = len(x)
    mu, var = x.mean(axis=0), x.var(axis=0)
    std = np.sqrt(var + eps)
    x_hat = (x - mu) / std
    wrong_axis = tr(
        "평균과 분산을 axis=1(특징 방향)로 구했나요? 배치 정규화는 특징마다 미니배치 방향, axis=0으로 구합니다.",
        "Did you take the mean and variance along axis=1 (over features)? Batch norm takes them per feature, "
        "over the mini-batch: axis=0.",
    )
    by_row = [_normalize(x, x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True), gamma, beta, eps)]
    if x.shape[0] == x.shape[1]:  # without keepdims the row statistics broadcast along the wrong axis
        by_row.append(_normalize(x, x.mean(axis=1), x.var(axis=1), gamma, beta, eps))
    return [
        *[(out, wrong_axis) for out in by_row],
        (
            _normalize(x, x.mean(), x.var(), gamma, beta, eps),
            tr(
                "axis를 빠뜨려서 배열 전체의 평균과 분산을 구했나요? 특징마다 따로, axis=0으로 구해야 합니다.",
                "Did you leave out axis and take the mean and variance of the whole array? Take them per feature, "
                "axis=0.",
            ),
        ),
        (
            _normalize(x, mu, x.var(axis=0, ddof=1), gamma, beta, eps),
            tr(
                "분산을 N-1로 나누었나요? 배치 정규화는 N으로 나눕니다(편향 분산). np.var의 기본값(ddof=0)이 맞습니다.",
                "Did you divide the variance by N - 1? Batch norm divides by N (the biased variance); np.var's "
                "default (ddof=0) is right.",
            ),
        ),
        (
            _normalize(x, mu, var * n, gamma, beta, eps),
            tr(
                "분산에서 1/N을 빠뜨렸나요? σ² = 1/N Σ (x_i − μ)², 합이 아니라 평균입니다.",
                "Did you leave out the 1/N of the variance? σ² = 1/N Σ (x_i − μ)² is a mean, not a sum.",
            ),
        ),
        (
            _normalize(x, mu * n, ((x - mu * n) ** 2).mean(axis=0), gamma, beta, eps),
            tr(
                "평균에서 1/N을 빠뜨렸나요? μ = 1/N Σ x_i, 합이 아니라 평균입니다.",
                "Did you leave out the 1/N of the mean? μ = 1/N Σ x_i is a mean, not a sum.",
            ),
        ),
        (
            gamma * (x - mu) / (np.sqrt(var) + eps) + beta,
            tr(
                "ε을 제곱근 밖에서 더했나요? ε은 제곱근 안에 들어갑니다: √(σ² + ε).",
                "Did you add ε outside the square root? It goes inside: √(σ² + ε).",
            ),
        ),
        (
            gamma * (x - mu) / np.sqrt(var) + beta,
            tr(
                "ε을 더하지 않았나요? 분산이 0에 가까우면 0으로 나누게 되므로 √(σ² + ε)로 나눕니다.",
                "Did you leave out ε? It keeps the division away from zero: divide by √(σ² + ε).",
            ),
        ),
        *[
            (
                _normalize(x, mu, var, gamma, beta, fixed),
                tr(
                    f"인자로 받은 eps 대신 고정된 값({fixed:g})을 썼나요? 주어진 eps를 쓰세요.",
                    f"Did you use a fixed value ({fixed:g}) instead of the argument eps? Use the eps you are given.",
                ),
            )
            for fixed in (1e-7, 1e-5, 1e-8)
        ],
        (
            gamma * (x - mu) / (var + eps) + beta,
            tr(
                "제곱근을 빠뜨렸나요? 분산이 아니라 표준편차 √(σ² + ε)로 나눕니다.",
                "Did you leave out the square root? Divide by the standard deviation √(σ² + ε), not the variance.",
            ),
        ),
        (
            gamma * x / std + beta,
            tr(
                "평균을 빼지 않았나요? x̂ = (x − μ)/√(σ² + ε)입니다.",
                "Did you forget to subtract the mean? x̂ = (x − μ)/√(σ² + ε).",
            ),
        ),
        (
            beta * x_hat + gamma,
            tr(
                "γ와 β가 바뀌었습니다. 확대(scale)가 γ, 이동(shift)이 β입니다: y = γ x̂ + β.",
                "γ and β are swapped: γ scales, β shifts: y = γ x̂ + β.",
            ),
        ),
        (
            x_hat,
            tr(
                "정규화한 x̂을 그대로 돌려주었나요? 마지막에 확대와 이동을 합니다: y = γ x̂ + β.",
                "Did you return the normalized x̂ as it is? The last step scales and shifts it: y = γ x̂ + β.",
            ),
        ),
    ]


def _check_batchnorm_forward_cases(fn):
    """Raises _Wrong at the first case whose out differs from the answer; returns the largest error."""
    worst = 0.0
    for x, gamma, beta, eps in _batchnorm_cases():
        result = _call(fn, "batchnorm_forward", {"x": x, "gamma": gamma, "beta": beta, "eps": eps})
        out, _cache = _unpack(result, "batchnorm_forward", ("out", "cache"))
        out = _as_array(out, "out", x.shape, _axis_hint())
        expected, _ = solutions.batchnorm_forward(x, gamma, beta, eps)
        if not _close(out, expected):
            hint = _named_slip(out, _batchnorm_forward_slips(x, gamma, beta, eps)) or tr(
                f"식을 한 단계씩 확인해 보세요: {BN_EQUATIONS}",
                f"Check the equations one step at a time: {BN_EQUATIONS}",
            )
            raise _Wrong(
                tr(
                    f"{_describe_batchnorm_case(x, eps)} out이 틀렸습니다 (최대 오차 {_max_error(out, expected):.3g}). "
                    f"{hint}",
                    f"out is wrong {_describe_batchnorm_case(x, eps)} (largest error {_max_error(out, expected):.3g})."
                    f" {hint}",
                )
            )
        worst = max(worst, rel_error(out, expected))
    return worst


def check_batchnorm_forward(fn):
    """Check batchnorm_forward(x, gamma, beta, eps) -> (out, cache) in train mode; prints the verdict.

    Returns True if out matches the answer on every test input (x of shapes (4, 4), (6, 3), (2, 5), (7, 1)).
    """
    _check_function("fn", fn)

    def check():
        worst = _check_batchnorm_forward_cases(fn)
        return tr(
            f"통과! 네 가지 입력 모두에서 out이 정답과 같습니다 (최대 상대 오차 {worst:.1e}).",
            f"Passed! out matches the answer on all four inputs (largest relative error {worst:.1e}).",
        )

    return _run(tr("배치 정규화 순전파(batchnorm_forward) 확인", "Checking batchnorm_forward"), check)


def _batchnorm_backward_slips(x, gamma, eps, dout):
    """{output name: [(gradient, hint)]} of the common slips in the backward pass."""
    n = len(x)
    mu, var = x.mean(axis=0), x.var(axis=0)
    std = np.sqrt(var + eps)
    x_hat = (x - mu) / std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    mean_term = dx_hat.mean(axis=0)
    var_term = x_hat * (dx_hat * x_hat).mean(axis=0)
    swapped = tr(
        "dgamma와 dbeta가 바뀌었습니다. (dx, dgamma, dbeta) 순서로 돌려주세요.",
        "dgamma and dbeta are swapped: return (dx, dgamma, dbeta) in that order.",
    )
    wrong_axis = tr(
        "axis=1(특징 방향)로 더했나요? 미니배치 방향, axis=0으로 더합니다.",
        "Did you sum along axis=1 (over features)? Sum over the mini-batch: axis=0.",
    )
    return {
        "dbeta": [
            (dgamma, swapped),
            (dout.sum(axis=1), wrong_axis),  # compared only when its shape is right: a square x
            (
                dout.mean(axis=0),
                tr(
                    "dbeta는 평균이 아니라 배치 방향의 합입니다: dβ = Σ dout (axis=0).",
                    "dbeta is the sum over the batch, not the mean: dβ = Σ dout (axis=0).",
                ),
            ),
        ],
        "dgamma": [
            (dbeta, swapped),
            ((dout * x_hat).sum(axis=1), wrong_axis),
            (
                (dout * x).sum(axis=0),
                tr(
                    "dgamma에 x를 곱했나요? 정규화한 x̂을 곱합니다: dγ = Σ dout · x̂.",
                    "Did you multiply dgamma by x? It is the normalized x̂: dγ = Σ dout · x̂.",
                ),
            ),
            (
                (dout * x_hat).mean(axis=0),
                tr(
                    "dgamma는 평균이 아니라 배치 방향의 합입니다: dγ = Σ dout · x̂ (axis=0).",
                    "dgamma is the sum over the batch, not the mean: dγ = Σ dout · x̂ (axis=0).",
                ),
            ),
        ],
        "dx": [
            (
                dx_hat / std,
                tr(
                    "dx에서 평균 μ와 분산 σ²을 거치는 항이 빠졌습니다. x는 x̂에만 쓰이는 게 아니라 μ와 σ²에도 "
                    "쓰이므로, 계산 그래프에서 그 두 갈래의 기울기도 더해야 합니다.",
                    "dx is missing the terms through the mean μ and the variance σ²: x feeds μ and σ² as well as x̂, "
                    "so the gradients along those branches of the graph add to dx.",
                ),
            ),
            (
                (dx_hat - mean_term) / std,
                tr(
                    "dx에서 분산 σ²을 거치는 항이 빠졌습니다. 계산 그래프에서 σ² → x̂ 갈래의 기울기도 더하세요.",
                    "dx is missing the term through the variance σ²: add the gradient along σ² → x̂ in the graph.",
                ),
            ),
            (
                (dx_hat - var_term) / std,
                tr(
                    "dx에서 평균 μ를 거치는 항이 빠졌습니다. 계산 그래프에서 μ로 가는 갈래의 기울기도 더하세요.",
                    "dx is missing the term through the mean μ: add the gradient along the branch through μ.",
                ),
            ),
            (
                (dout - dout.mean(axis=0) - x_hat * (dout * x_hat).mean(axis=0)) / std,
                tr(
                    "dx에 γ를 곱하지 않았나요? y = γ x̂ + β이므로 dx̂ = dout · γ입니다.",
                    "Did you leave γ out of dx? y = γ x̂ + β, so dx̂ = dout · γ.",
                ),
            ),
            (
                (dx_hat - n * mean_term - n * var_term) / std,
                tr(
                    "dx에서 1/N을 빠뜨렸나요? 평균(μ, σ²)을 거치는 항에는 1/N이 붙습니다.",
                    "Did you leave out a 1/N in dx? The terms through the means (μ, σ²) carry a 1/N.",
                ),
            ),
        ],
    }


def check_batchnorm_backward(forward_fn, backward_fn):
    """Check batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta), with cache from forward_fn; prints the verdict.

    First forward_fn must pass check_batchnorm_forward. Then on inputs of three shapes, each of dx, dgamma
    and dbeta is compared with the float64 numerical gradient of sum(out * dout): passes below GRAD_TOL.
    """
    _check_function("forward_fn", forward_fn)
    _check_function("backward_fn", backward_fn)

    def check():
        try:
            _check_batchnorm_forward_cases(forward_fn)
        except _Wrong as wrong:
            raise _Wrong(
                tr(
                    f"역전파를 확인하려면 순전파가 먼저 맞아야 합니다(check_batchnorm_forward). {wrong}",
                    f"The forward pass must be right before the backward pass can be checked "
                    f"(check_batchnorm_forward). {wrong}",
                )
            ) from None
        rng = np.random.default_rng(16)
        worst = dict.fromkeys(("dx", "dgamma", "dbeta"), 0.0)
        for x, gamma, beta, eps in _batchnorm_cases()[:3]:
            dout = rng.standard_normal(x.shape)
            result = _call(forward_fn, "batchnorm_forward", {"x": x, "gamma": gamma, "beta": beta, "eps": eps})
            _out, cache = _unpack(result, "batchnorm_forward", ("out", "cache"))
            result = _call(backward_fn, "batchnorm_backward", {"dout": dout, "cache": cache}, own=("cache",))
            dx, dgamma, dbeta = _unpack(result, "batchnorm_backward", ("dx", "dgamma", "dbeta"))
            grads = {
                "dx": _as_array(dx, "dx", x.shape),
                "dgamma": _as_array(dgamma, "dgamma", gamma.shape, _axis_hint()),
                "dbeta": _as_array(dbeta, "dbeta", beta.shape, _axis_hint()),
            }

            def f(x=x, gamma=gamma, beta=beta, eps=eps, dout=dout):
                args = {"x": x, "gamma": gamma, "beta": beta, "eps": eps}
                return float(np.sum(_call(forward_fn, "batchnorm_forward", args)[0] * dout))

            numerical = {
                "dx": numerical_gradient(f, x),
                "dgamma": numerical_gradient(f, gamma),
                "dbeta": numerical_gradient(f, beta),
            }
            slips = _batchnorm_backward_slips(x, gamma, eps, dout)
            problems, hints = [], set()
            for name, grad in grads.items():
                error = rel_error(grad, numerical[name])
                worst[name] = max(worst[name], error)
                if error >= GRAD_TOL:
                    hint = _named_slip(grad, slips[name]) or _batchnorm_backward_hint(name)
                    if hint in hints:  # dgamma and dbeta swapped: say it once
                        hint = ""
                    hints.add(hint)
                    problems.append(
                        tr(
                            f"{name}의 값이 수치 미분과 다릅니다 "
                            f"(상대 오차 {error:.1e}, 1e-6 미만이어야 합니다). {hint}",
                            f"{name} differs from the numerical gradient (relative error {error:.1e}, should be "
                            f"below 1e-6). {hint}",
                        ).rstrip()
                    )
            if problems:
                where = _describe_batchnorm_case(x, eps)
                raise _Wrong(where + ":\n  " + "\n  ".join(problems))
        errors = ", ".join(f"{name} {error:.1e}" for name, error in worst.items())
        return tr(
            f"통과! 수치 미분과의 상대 오차가 모두 1e-6 미만입니다 ({errors}).",
            f"Passed! The relative errors against the numerical gradient are all below 1e-6 ({errors}).",
        )

    return _run(tr("배치 정규화 역전파(batchnorm_backward) 확인", "Checking batchnorm_backward"), check)


def _batchnorm_backward_hint(name):
    return {
        "dbeta": tr("dβ = Σ dout (axis=0)입니다.", "dβ = Σ dout (axis=0)."),
        "dgamma": tr("dγ = Σ dout · x̂ (axis=0)입니다.", "dγ = Σ dout · x̂ (axis=0)."),
        "dx": tr(
            "계산 그래프를 거꾸로 따라가 보세요: x̂ → (x − μ), σ² → μ 순서로, 갈래마다 기울기를 더합니다.",
            "Follow the computational graph backwards: x̂ → (x − μ), σ² → μ, adding the gradient of each branch.",
        ),
    }[name]


# --- 02. Weight decay ---------------------------------------------------------------------------------------------


def _weight_decay_cases():
    """(weights, lam): two matrices; one vector; three of mixed sizes and a larger λ; λ = 0."""
    rng = np.random.default_rng(25)
    return [
        ([rng.standard_normal((3, 4)), rng.standard_normal((4, 2))], 0.1),
        ([rng.standard_normal(5)], 0.01),
        ([2 * rng.standard_normal((2, 3)), rng.standard_normal((3, 3)), rng.standard_normal((3, 1))], 0.5),
        ([rng.standard_normal((2, 2)), rng.standard_normal((2, 1))], 0.0),
    ]


def _penalty_slips(weights, lam):
    """[(penalty, hint)] of the common slips in ½ λ Σ ||W||²."""
    squares = [np.sum(W**2) for W in weights]
    return [
        (
            lam * sum(squares),
            tr(
                "½을 빠뜨렸나요? 벌칙은 ½ λ Σ ||W||²입니다. ½이 있어야 미분했을 때 깔끔하게 λW가 됩니다.",
                "Did you leave out the ½? The penalty is ½ λ Σ ||W||²; the ½ makes its derivative exactly λW.",
            ),
        ),
        (
            0.5 * sum(squares),
            tr("λ를 곱하지 않았나요? 벌칙은 ½ λ Σ ||W||²입니다.", "Did you leave out λ? The penalty is ½ λ Σ ||W||²."),
        ),
        (
            0.5 * lam * sum(np.sqrt(s) for s in squares),
            tr(
                "노름 ||W||를 더했나요? 제곱 노름 ||W||² = Σ w²을 더합니다 (제곱근을 씌우지 않습니다).",
                "Did you add the norm ||W||? Add the squared norm ||W||² = Σ w² (no square root).",
            ),
        ),
        (
            0.5 * lam * sum(np.sum(np.abs(W)) for W in weights),
            tr(
                "절댓값을 더했나요? 그건 L1입니다. 가중치 감소는 제곱을 더합니다 (L2).",
                "Did you add absolute values? That is L1; weight decay adds squares (L2).",
            ),
        ),
        (
            0.5 * lam * sum(np.mean(W**2) for W in weights),
            tr(
                "np.sum 대신 np.mean을 썼나요? 모든 원소의 제곱을 더합니다: ||W||² = Σ w².",
                "Did you use np.mean instead of np.sum? Add the squares of all entries: ||W||² = Σ w².",
            ),
        ),
        (
            0.5 * lam * squares[0],
            tr(
                "첫 번째 가중치만 더했나요? 모든 가중치 W1, W2, ...의 벌칙을 더합니다 (Σ).",
                "Did you add only the first weight? Add the penalties of every weight W1, W2, ... (Σ).",
            ),
        ),
        (
            0.5 * lam * squares[-1],
            tr(
                "마지막 가중치만 더했나요? 반복문 안에서 합을 덮어쓰지 않았는지 보세요. 모든 가중치를 더합니다 (Σ).",
                "Did you add only the last weight? See whether the loop overwrites the sum. Add every weight (Σ).",
            ),
        ),
    ]


def _grads_slips(weights, lam):
    """[(grads, hint)] of the common slips in λW; grads as one flat array over all weights."""

    def flat(arrays):
        return np.concatenate([np.ravel(a) for a in arrays])

    return [
        (
            flat([0.5 * lam * W for W in weights]),
            tr(
                "기울기에 ½이 남아 있습니다. ½ λ W²을 미분하면 λW입니다.",
                "The gradient still has the ½: the derivative of ½ λ W² is λW.",
            ),
        ),
        (
            flat([2 * lam * W for W in weights]),
            tr(
                "기울기에 2를 곱했나요? ½ λ W²을 미분하면 λW입니다.",
                "Did you double it? The derivative of ½ λ W² is λW.",
            ),
        ),
        (
            flat(weights),
            tr("기울기에 λ를 곱하지 않았나요? 기울기는 λW입니다.", "Did you leave out λ? The gradient is λW."),
        ),
        (
            flat([lam * W**2 for W in weights]),
            tr("λW²이 아니라 λW입니다 (W² = W · W를 W로 미분하면 2W).", "It is λW, not λW²."),
        ),
        (
            flat([-lam * W for W in weights]),
            tr(
                "부호가 반대입니다. 벌칙의 기울기는 +λW이고, 빼는 일은 갱신(SGD)이 합니다.",
                "The sign is flipped: the penalty's gradient is +λW; the update (SGD) does the subtracting.",
            ),
        ),
    ]


def _check_grads_order(grads, weights):
    """Shapes of the grads against the weights; reversed order gets its own verdict."""
    shapes = [W.shape for W in weights]
    got = [np.shape(g) for g in grads]
    if got != shapes:
        hint = (
            tr(
                " 순서가 거꾸로입니다. weights와 같은 순서로 돌려주세요.",
                " They are in reverse order: keep the weights' order.",
            )
            if got == shapes[::-1]
            else ""
        )
        raise _Wrong(
            tr(
                f"grads의 모양이 {got}인데, weights와 같은 순서로 {shapes}이어야 합니다.{hint}",
                f"grads have shapes {got}; they should be {shapes}, in the order of weights.{hint}",
            )
        )


def check_weight_decay(fn):
    """Check weight_decay(weights, lam) -> (penalty, grads); prints the verdict.

    penalty must be ½ λ Σ ||W||² (one number), grads the list [λ W1, λ W2, ...]; grads are also compared
    with the float64 numerical gradient of the student's own penalty.
    """
    _check_function("fn", fn)

    def check():
        worst = 0.0
        for weights, lam in _weight_decay_cases():
            where = tr(f"가중치 {len(weights)}개, λ={lam:g}일 때", f"with {len(weights)} weight(s), λ={lam:g}")
            result = _call(fn, "weight_decay", {"weights": weights, "lam": lam})
            penalty, grads = _unpack(result, "weight_decay", ("penalty", "grads"))
            if penalty is None or np.size(penalty) != 1:
                shape = None if penalty is None else np.shape(penalty)
                raise _Wrong(
                    tr(
                        f"penalty는 숫자 하나여야 하는데 {shape}입니다. 가중치마다 구한 값을 모두 더하세요 (Σ).",
                        f"penalty must be a single number, got {shape}. Add up the values of all weights (Σ).",
                    )
                )
            penalty = _as_array(np.reshape(penalty, ()), "penalty", ())
            expected_penalty, expected_grads = solutions.weight_decay(weights, lam)
            problems = []
            if not _close(penalty, expected_penalty):
                hint = _named_slip(penalty, _penalty_slips(weights, lam)) or tr(
                    "벌칙은 ½ λ Σ ||W||², 즉 모든 가중치의 모든 원소의 제곱을 더해 ½ λ를 곱한 값입니다.",
                    "The penalty is ½ λ Σ ||W||²: the squares of every entry of every weight, summed, times ½ λ.",
                )
                problems.append(
                    tr(
                        f"penalty가 {float(penalty):.6g}인데 {expected_penalty:.6g}이어야 합니다. {hint}",
                        f"penalty is {float(penalty):.6g}, it should be {expected_penalty:.6g}. {hint}",
                    )
                )
            if not isinstance(grads, (list, tuple)) or len(grads) != len(weights):
                count = f"{len(grads)}개" if isinstance(grads, (list, tuple)) else type(grads).__name__
                raise _Wrong(
                    tr(
                        f"grads는 가중치마다 하나씩, {len(weights)}개의 배열이 든 리스트여야 하는데 {count}입니다.",
                        f"grads must be a list of {len(weights)} arrays, one per weight; got {count}.",
                    )
                )
            _check_grads_order(grads, weights)
            grads = [_as_array(g, f"grads[{i}]", W.shape) for i, (g, W) in enumerate(zip(grads, weights, strict=True))]
            flat = np.concatenate([g.ravel() for g in grads])
            expected_flat = np.concatenate([g.ravel() for g in expected_grads])
            if not _close(flat, expected_flat):
                hint = _named_slip(flat, _grads_slips(weights, lam)) or tr(
                    "½ λ ||W||²을 W로 미분하면 λW입니다.", "The derivative of ½ λ ||W||² by W is λW."
                )
                problems.append(
                    tr(
                        f"grads가 틀렸습니다 (최대 오차 {_max_error(flat, expected_flat):.3g}). {hint}",
                        f"grads are wrong (largest error {_max_error(flat, expected_flat):.3g}). {hint}",
                    )
                )
            if problems:
                raise _Wrong(where + ":\n  " + "\n  ".join(problems))
            worst = max(worst, _weight_decay_gradcheck(fn, weights, lam, grads))
        return tr(
            f"통과! penalty와 grads가 정답과 같고, grads와 수치 미분의 상대 오차는 {worst:.1e}입니다.",
            f"Passed! penalty and grads match the answer; grads against the numerical gradient: {worst:.1e}.",
        )

    return _run(tr("가중치 감소(weight_decay) 확인", "Checking weight_decay"), check)


def _weight_decay_gradcheck(fn, weights, lam, grads):
    """Largest relative error between grads and the numerical gradient of fn's penalty (float64)."""
    copies = [W.copy() for W in weights]

    def penalty():
        return float(np.reshape(_call(fn, "weight_decay", {"weights": copies, "lam": lam})[0], ()))

    errors = [rel_error(g, numerical_gradient(penalty, W)) for g, W in zip(grads, copies, strict=True)]
    return max(errors)


# --- 03. Dropout --------------------------------------------------------------------------------------------------


def _dropout_rule():
    return tr(
        "훈련 때 out = x · mask (각 뉴런을 dropout_ratio의 확률로 삭제), "
        "테스트 때 out = x · (1 − dropout_ratio)입니다.",
        "Training: out = x · mask (each unit dropped with probability dropout_ratio); "
        "test: out = x · (1 − dropout_ratio).",
    )


def _dropout_x(shape, seed):
    """x with no zeros (so a zero in out means a dropped unit), both signs, float64."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _forward(forward_fn, x, ratio, train, seed):
    """(out, mask) of the student's dropout_forward with a fresh generator from `seed`."""
    args = {"x": x, "dropout_ratio": ratio, "train": train, "rng": np.random.default_rng(seed)}
    return _unpack(_call(forward_fn, "dropout_forward", args), "dropout_forward", ("out", "mask"))


def _as_mask(mask, x):
    """The training mask as a float array shaped like x (its values, 0 and 1, are checked by the caller)."""
    if mask is None:
        raise _Wrong(
            tr(
                "훈련 때 mask가 None입니다. 남긴 뉴런은 1(True), 삭제한 뉴런은 0(False)인 배열을 돌려주세요.",
                "In training mask is None: return an array with 1 (True) for kept units and 0 (False) for dropped.",
            )
        )
    return _as_array(mask, "mask", x.shape)


def _check_dropout_train(forward_fn, ratio, seed):
    x = _dropout_x((200, 50), seed)
    out, mask = _forward(forward_fn, x, ratio, True, seed)
    out, mask = _as_array(out, tr("훈련 때의 out", "out in training"), x.shape), _as_mask(mask, x)
    keep = 1 - ratio
    scaled_out = _close(out, x * mask / keep) and not _close(out, x * mask)
    scaled_mask = mask.any() and np.allclose(mask[mask != 0], 1 / keep)
    if scaled_out or scaled_mask:
        raise _Wrong(
            tr(
                "훈련 때 1/(1 − dropout_ratio)로 나누었나요? 그건 역 드롭아웃(inverted dropout)입니다. 이 세미나(와 책)"
                "에서는 훈련 때 out = x · mask 그대로 두고, 테스트 때 (1 − dropout_ratio)를 곱합니다.",
                "Did you divide by (1 − dropout_ratio) in training? That is inverted dropout. The seminar (and the "
                "book) keeps out = x · mask in training and multiplies by (1 − dropout_ratio) at test time.",
            )
        )
    if not np.isin(mask, (0.0, 1.0)).all():
        raise _Wrong(
            tr(
                "mask에는 0과 1(또는 False와 True)만 있어야 합니다: 남긴 뉴런은 1, 삭제한 뉴런은 0.",
                "mask must hold only 0 and 1 (or False and True): 1 for a kept unit, 0 for a dropped one.",
            )
        )
    if not _close(out, x * mask):
        if _close(out, x * (1 - mask)):
            hint = tr(
                "mask가 거꾸로입니다. 삭제한 뉴런을 1로 표시했습니다. 남긴 뉴런이 1(True)입니다.",
                "The mask is the wrong way round: it marks dropped units with 1. Kept units are 1 (True).",
            )
        elif _close(out, x):
            hint = tr("뉴런을 하나도 삭제하지 않았습니다.", "No unit was dropped.")
        else:
            hint = tr("out = x · mask이어야 합니다.", "out must be x · mask.")
        raise _Wrong(tr(f"훈련 때의 out이 x · mask와 다릅니다. {hint}", f"out in training is not x · mask. {hint}"))
    dropped = 1 - mask.mean()
    tolerance = 5 * math.sqrt(ratio * keep / mask.size)  # five standard deviations of the dropped fraction
    if abs(dropped - ratio) > tolerance:
        if abs(dropped - keep) <= tolerance:
            hint = tr(
                "dropout_ratio의 확률로 남기고 있습니다. dropout_ratio는 삭제하는 비율입니다: "
                "rng.random(x.shape) > dropout_ratio인 뉴런을 남기세요.",
                "It keeps units with probability dropout_ratio. dropout_ratio is the fraction dropped: keep the "
                "units where rng.random(x.shape) > dropout_ratio.",
            )
        else:
            hint = tr(
                "각 뉴런을 dropout_ratio의 확률로 따로따로 삭제해야 합니다.",
                "Each unit must be dropped on its own, with probability dropout_ratio.",
            )
        raise _Wrong(
            tr(
                f"dropout_ratio={ratio:g}인데 삭제된 비율이 {dropped:.3f}입니다. {hint}",
                f"dropout_ratio={ratio:g}, but the fraction dropped is {dropped:.3f}. {hint}",
            )
        )
    return mask


def _check_dropout_randomness(forward_fn):
    """The mask must come from rng alone: the same seed gives the same mask, another seed another mask."""
    x = _dropout_x((20, 30), 0)
    first = _as_mask(_forward(forward_fn, x, 0.5, True, 7)[1], x)
    again = _as_mask(_forward(forward_fn, x, 0.5, True, 7)[1], x)
    other = _as_mask(_forward(forward_fn, x, 0.5, True, 8)[1], x)
    if not np.array_equal(first, again):
        raise _Wrong(
            tr(
                "같은 시드의 rng로 두 번 불렀는데 mask가 달라졌습니다. np.random.rand나 새로 만든 "
                "np.random.default_rng()가 아니라, 인자로 받은 rng에서 난수를 뽑으세요: rng.random(x.shape).",
                "Two calls with generators of the same seed gave different masks. Draw from the rng you are given, "
                "not np.random.rand or a new np.random.default_rng(): rng.random(x.shape).",
            )
        )
    if np.array_equal(first, other):
        raise _Wrong(
            tr(
                "rng의 시드를 바꾸어도 mask가 똑같습니다. 고정된 시드로 생성기를 새로 만들었나요? "
                "인자로 받은 rng에서 난수를 뽑으세요.",
                "Another seed of rng gives the same mask. Did you make a new generator with a fixed seed? "
                "Draw from the rng you are given.",
            )
        )


def _check_dropout_test(forward_fn, ratio):
    x = _dropout_x((30, 20), 3)
    out, mask = _forward(forward_fn, x, ratio, False, 3)
    out = _as_array(out, tr("테스트 때의 out", "out at test time"), x.shape)
    keep = 1 - ratio
    if not _close(out, x * keep):
        slips = [
            (
                x,
                tr(
                    "테스트 때 (1 − dropout_ratio)를 곱하지 않았습니다. 훈련 때는 평균적으로 (1 − dropout_ratio)만큼만 "
                    "신호가 전달되므로, 테스트 때도 그만큼 곱해야 출력의 기댓값이 같아집니다.",
                    "At test time the output is not multiplied by (1 − dropout_ratio). In training only that fraction "
                    "of the signal passes on average, so the test output is scaled to match.",
                ),
            ),
            (
                x * ratio,
                tr(
                    "삭제 비율 dropout_ratio가 아니라, 남기는 비율 (1 − dropout_ratio)를 곱하세요.",
                    "Multiply by the fraction kept, (1 − dropout_ratio), not by dropout_ratio.",
                ),
            ),
            (
                x / keep,
                tr(
                    "(1 − dropout_ratio)로 나누지 말고 곱하세요: out = x · (1 − dropout_ratio).",
                    "Multiply by (1 − dropout_ratio), do not divide: out = x · (1 − dropout_ratio).",
                ),
            ),
        ]
        hint = _named_slip(out, slips)
        if hint is None and np.count_nonzero(out == 0) > 0:
            hint = tr(
                "테스트 때는 뉴런을 삭제하지 않습니다. 모든 뉴런을 쓰고 (1 − dropout_ratio)를 곱합니다.",
                "No unit is dropped at test time: use them all and multiply by (1 − dropout_ratio).",
            )
        raise _Wrong(
            tr(
                f"dropout_ratio={ratio:g}, 테스트 때의 out이 틀렸습니다 (최대 오차 {_max_error(out, x * keep):.3g}). "
                f"{hint or _dropout_rule()}",
                f"dropout_ratio={ratio:g}: out at test time is wrong (largest error {_max_error(out, x * keep):.3g})."
                f" {hint or _dropout_rule()}",
            )
        )
    if mask is not None:
        raise _Wrong(
            tr(
                "테스트 때는 삭제하는 뉴런이 없으니 mask로 None을 돌려주세요: return x * (1 - dropout_ratio), None",
                "At test time nothing is dropped: return None as the mask: return x * (1 - dropout_ratio), None",
            )
        )


def _check_dropout_backward(forward_fn, backward_fn):
    """dx against the float64 numerical gradient of sum(out * dout), the mask fixed by a fixed seed."""
    ratio, seed = 0.5, 4
    x = _dropout_x((4, 5), seed)
    dout = np.random.default_rng(5).standard_normal(x.shape)
    _out, mask = _forward(forward_fn, x, ratio, True, seed)
    dx = _call(backward_fn, "dropout_backward", {"dout": dout, "mask": mask}, own=("mask",))
    dx = _as_array(dx, "dx", x.shape)

    def f():
        return float(np.sum(_forward(forward_fn, x, ratio, True, seed)[0] * dout))

    error = rel_error(dx, numerical_gradient(f, x))
    if error >= GRAD_TOL:
        kept = _as_mask(mask, x)
        slips = [
            (
                dout,
                tr(
                    "dx에 mask를 곱하지 않았습니다. 삭제된 뉴런으로는 기울기도 흐르지 않습니다: dx = dout · mask.",
                    "dx is not multiplied by the mask: no gradient flows through a dropped unit: dx = dout · mask.",
                ),
            ),
            (
                dout * kept / (1 - ratio),
                tr(
                    "역전파에서 (1 − dropout_ratio)로 나누었나요? 이 세미나의 방식에서는 dx = dout · mask입니다.",
                    "Did you divide by (1 − dropout_ratio) in backward? In the seminar's convention dx = dout · mask.",
                ),
            ),
            (
                dout * kept * (1 - ratio),
                tr(
                    "역전파에서 (1 − dropout_ratio)를 곱했나요? 그건 테스트 때 순전파의 일입니다. dx = dout · mask.",
                    "Did you multiply by (1 − dropout_ratio) in backward? That belongs to the test-time forward pass; "
                    "dx = dout · mask.",
                ),
            ),
            (
                dout * (1 - kept),
                tr(
                    "mask를 뒤집었나요? 남긴 뉴런(mask = 1)으로만 기울기가 흐릅니다: dx = dout · mask.",
                    "Is the mask flipped? The gradient flows only through the kept units (mask = 1): dx = dout · mask.",
                ),
            ),
        ]
        hint = _named_slip(dx, slips) or tr("dx = dout · mask입니다.", "dx = dout · mask.")
        raise _Wrong(
            tr(
                f"dx가 수치 미분과 다릅니다 (상대 오차 {error:.1e}, 1e-6 미만이어야 합니다). {hint}",
                f"dx differs from the numerical gradient (relative error {error:.1e}, should be below 1e-6). {hint}",
            )
        )
    return error


def check_dropout(forward_fn, backward_fn):
    """Check dropout_forward(x, dropout_ratio, train, rng) -> (out, mask) and dropout_backward(dout, mask) -> dx.

    The seminar's (the book's) convention: in training each unit is dropped with probability dropout_ratio,
    drawn from rng, out = x * mask; at test time out = x * (1 - dropout_ratio), mask = None. Checked:
    the fraction dropped for dropout_ratio 0.15 and 0.8, the mask from rng alone, test-time scaling for 0.15
    and 0.5, and dx against the float64 numerical gradient. Prints the verdict, returns True or False.
    """
    _check_function("forward_fn", forward_fn)
    _check_function("backward_fn", backward_fn)

    def check():
        mask = _check_dropout_train(forward_fn, 0.15, seed=1)
        _check_dropout_randomness(forward_fn)
        _check_dropout_train(forward_fn, 0.8, seed=2)
        for ratio in (0.15, 0.5):
            _check_dropout_test(forward_fn, ratio)
        error = _check_dropout_backward(forward_fn, backward_fn)
        return tr(
            f"통과! dropout_ratio=0.15일 때 {1 - mask.mean():.1%}를 삭제했고, 테스트 때의 출력과 "
            f"dx(수치 미분과의 상대 오차 {error:.1e})도 맞습니다.",
            f"Passed! With dropout_ratio=0.15 it dropped {1 - mask.mean():.1%}; the test-time output and dx "
            f"(relative error against the numerical gradient {error:.1e}) are right too.",
        )

    return _run(
        tr("드롭아웃(dropout_forward, dropout_backward) 확인", "Checking dropout_forward, dropout_backward"), check
    )


# --- 04. Sampling on a log scale ----------------------------------------------------------------------------------


# (low, high, size, seed): the seminar's lr and weight-decay ranges, one that starts off a power of ten, small sizes
LOG_UNIFORM_CASES = (
    (1e-6, 1e-2, 5000, 0),
    (1e-8, 1e-4, 5000, 1),
    (0.3, 200.0, 5000, 2),
    (1e-3, 1.0, 1, 3),
    (1e-3, 1.0, 3, 4),
)


def _sample(fn, low, high, size, seed):
    args = {"low": low, "high": high, "size": size, "rng": np.random.default_rng(seed)}
    values = _call(fn, "sample_log_uniform", args)
    if np.ndim(values) == 0 and size != 1:
        raise _Wrong(
            tr(
                f"값을 하나만 돌려주었습니다. size={size}개를 뽑으세요 (rng.uniform에 size를 넘기면 됩니다).",
                f"It returned a single value. Draw size={size} values (pass size to rng.uniform).",
            )
        )
    return _as_array(
        values,
        tr("돌려준 값", "the values"),
        (size,),
        tr(" size개짜리 1차원 배열을 돌려주세요.", " Return a 1-D array of size values."),
    )


def _decade_shares(values, low, high):
    """The share of values in each decade [10^k, 10^(k+1)) between low and high, as '25%, 25%, ...'."""
    edges = 10.0 ** np.arange(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    counts, _ = np.histogram(values, bins=edges)
    return ", ".join(f"{count / len(values):.0%}" for count in counts)


def _ks_distance(u):
    """Kolmogorov-Smirnov distance between the sample u and the uniform distribution on [0, 1)."""
    u = np.sort(u)
    n = len(u)
    ranks = np.arange(1, n + 1) / n
    return float(max(np.max(ranks - u), np.max(u - (ranks - 1 / n))))


def _check_log_range(values, low, high):
    inside = (values >= low) & (values < high)
    if inside.all():
        return
    log_low, log_high = math.log10(low), math.log10(high)
    with np.errstate(all="ignore"):
        slips = [
            (
                (np.log(values) >= log_low) & (np.log(values) < log_high),
                tr(
                    "지수를 log10으로 뽑고 np.exp로 되돌렸나요? 밑을 맞추세요: log10이면 10 ** 지수 (np.log면 np.exp).",
                    "Did you draw the exponent with log10 and undo it with np.exp? Match the bases: log10 goes with "
                    "10 ** exponent (np.log with np.exp).",
                ),
            ),
            (
                (np.log10(values) >= math.log(low)) & (np.log10(values) < math.log(high)),
                tr(
                    "지수를 np.log(자연로그)로 구하고 10 **로 되돌렸나요? 밑을 맞추세요: np.log10과 10 **, "
                    "또는 np.log와 np.exp.",
                    "Did you take the exponent with np.log (natural log) and undo it with 10 **? Match the bases: "
                    "np.log10 with 10 **, or np.log with np.exp.",
                ),
            ),
            (
                (values >= log_low) & (values < log_high),
                tr(
                    "지수만 돌려주었나요? 뽑은 지수 e를 10 ** e로 값으로 바꾸어야 합니다.",
                    "Did you return the exponents? Turn each exponent e into the value 10 ** e.",
                ),
            ),
            (
                (np.log10(values) >= low) & (np.log10(values) < high),
                tr(
                    "low와 high를 그대로 지수의 범위로 썼나요? 지수의 범위는 log10(low) ~ log10(high)입니다.",
                    "Did you use low and high themselves as the exponent's range? It is log10(low) to log10(high).",
                ),
            ),
        ]
    hint = next((hint for fits, hint in slips if fits.all()), None)
    if hint is None and np.any(values == high) and np.all(values[values != high] >= low):
        hint = tr(
            "high와 같은 값이 나왔습니다. 범위 [low, high)는 high를 포함하지 않습니다. 격자(np.linspace, "
            "np.logspace)가 아니라 rng.uniform으로 무작위로 뽑으세요.",
            "A value equals high. The range [low, high) leaves high out. Draw at random with rng.uniform, not on a "
            "grid (np.linspace, np.logspace).",
        )
    raise _Wrong(
        tr(
            f"범위 [{low:g}, {high:g})를 벗어난 값이 {np.count_nonzero(~inside)}개 있습니다 (가장 작은 값 "
            f"{values.min():.3g}, 가장 큰 값 {values.max():.3g}). {hint or ''}",
            f"{np.count_nonzero(~inside)} values fall outside [{low:g}, {high:g}) (smallest {values.min():.3g}, "
            f"largest {values.max():.3g}). {hint or ''}",
        ).rstrip()
    )


def _check_log_spread(values, low, high):
    """log10 of the values must be uniform: the KS distance below 2.5 / sqrt(n) (a correct sampler fails
    that about once in 10^5 draws); returns the distance."""
    log_low, log_high = math.log10(low), math.log10(high)
    distance = _ks_distance((np.log10(values) - log_low) / (log_high - log_low))
    limit = 2.5 / math.sqrt(len(values))
    if distance < limit:
        return distance
    distinct = len(np.unique(values))
    if distinct < len(values) / 2:
        raise _Wrong(
            tr(
                f"[{low:g}, {high:g})에서 뽑은 값 {len(values)}개 가운데 서로 다른 값이 {distinct}개뿐입니다. "
                "지수를 정수로 뽑았나요(rng.integers)? 지수도 실수로 고르게 뽑아야 합니다: "
                "rng.uniform(log10(low), log10(high), size).",
                f"Of the {len(values)} values drawn from [{low:g}, {high:g}), only {distinct} differ. Did you draw "
                "whole-number exponents (rng.integers)? Draw real exponents: "
                "rng.uniform(log10(low), log10(high), size).",
            )
        )
    if _ks_distance((values - low) / (high - low)) < limit:
        hint = tr(
            "선형(linear) 균등 분포로 뽑았습니다. rng.uniform(low, high)는 값의 대부분이 큰 쪽 자릿수에 몰립니다. "
            "지수를 고르게 뽑아 10 **로 되돌리세요: 10 ** rng.uniform(log10(low), log10(high), size).",
            "These are uniform on a linear scale: rng.uniform(low, high) puts most values in the top decade. Draw "
            "the exponent uniformly and raise 10 to it: 10 ** rng.uniform(log10(low), log10(high), size).",
        )
    else:
        hint = tr(
            "지수를 [log10(low), log10(high))에서 균등하게 뽑으세요.",
            "Draw the exponent uniformly from [log10(low), log10(high)).",
        )
    raise _Wrong(
        tr(
            f"[{low:g}, {high:g})에서 뽑은 값이 로그 스케일에서 고르게 퍼져 있지 않습니다. 자릿수(10배 구간)마다 "
            f"{_decade_shares(values, low, high)}가 들어 있습니다. {hint}",
            f"The values drawn from [{low:g}, {high:g}) are not spread evenly on a log scale: each decade holds "
            f"{_decade_shares(values, low, high)}. {hint}",
        )
    )


def check_log_uniform(fn):
    """Check sample_log_uniform(low, high, size, rng) -> (size,) values, log10 uniform on [log10 low, log10 high).

    Ranges: the seminar's lr (1e-6, 1e-2) and weight decay (1e-8, 1e-4), and (0.3, 200) that does not start
    on a power of ten; 5000 values each, plus sizes 1 and 3. Checked: the shape, every value in [low, high),
    log10 of the values uniform (Kolmogorov-Smirnov distance), and the values drawn from rng alone.
    """
    _check_function("fn", fn)

    def check():
        for low, high, size, seed in LOG_UNIFORM_CASES:
            values = _sample(fn, low, high, size, seed)
            _check_log_range(values, low, high)
            if size >= 1000:
                _check_log_spread(values, low, high)
        first = _sample(fn, 1e-6, 1e-2, 5000, 0)
        if not np.array_equal(first, _sample(fn, 1e-6, 1e-2, 5000, 0)):
            raise _Wrong(
                tr(
                    "같은 시드의 rng로 두 번 불렀는데 값이 달라졌습니다. np.random.uniform이나 새로 만든 "
                    "np.random.default_rng()가 아니라, 인자로 받은 rng에서 뽑으세요: rng.uniform(...).",
                    "Two calls with generators of the same seed gave different values. Draw from the rng you are "
                    "given, not np.random.uniform or a new np.random.default_rng(): rng.uniform(...).",
                )
            )
        if np.array_equal(first, _sample(fn, 1e-6, 1e-2, 5000, 1)):
            raise _Wrong(
                tr(
                    "rng의 시드를 바꾸어도 값이 똑같습니다. 고정된 시드로 생성기를 새로 만들었거나 격자를 썼나요? "
                    "인자로 받은 rng에서 무작위로 뽑으세요.",
                    "Another seed of rng gives the same values. Did you make a generator with a fixed seed, or use a "
                    "grid? Draw at random from the rng you are given.",
                )
            )
        return tr(
            f"통과! 값이 모두 범위 안에 있고 로그 스케일에서 고르게 퍼져 있습니다. [1e-06, 0.01)의 자릿수마다: "
            f"{_decade_shares(first, 1e-6, 1e-2)}.",
            f"Passed! Every value is in range and evenly spread on a log scale. Each decade of [1e-06, 0.01): "
            f"{_decade_shares(first, 1e-6, 1e-2)}.",
        )

    return _run(tr("로그 스케일 샘플링(sample_log_uniform) 확인", "Checking sample_log_uniform"), check)


# --- 04. Narrowing the range -------------------------------------------------------------------------------------


def _narrow_cases():
    """(trials, top_k): 20 trials of two hyperparameters, top 5; 8 trials of one, top 2; 12 with tied accuracies
    (as real ones are: multiples of 1/200), top 4, no tie across the cut; 6 trials, all kept."""
    rng = np.random.default_rng(45)

    def trials(names, accuracies):
        ranges = {"lr": (1e-6, 1e-2), "weight_decay": (1e-8, 1e-4)}
        return [
            (float(acc), {name: float(10 ** rng.uniform(*np.log10(ranges[name]))) for name in names})
            for acc in accuracies
        ]

    tied = [0.84, 0.84, 0.1, 0.71, 0.1, 0.65, 0.84, 0.3, 0.3, 0.12, 0.55, 0.1]
    return [
        (trials(("lr", "weight_decay"), rng.permutation(np.linspace(0.05, 0.9, 20))), 5),
        (trials(("lr",), rng.permutation(np.linspace(0.1, 0.8, 8))), 2),
        (trials(("lr", "weight_decay"), tied), 4),
        (trials(("lr", "weight_decay"), rng.permutation(np.linspace(0.2, 0.7, 6))), 6),
    ]


def _span(trials, names):
    """{name: (smallest, largest value)} over the trials."""
    return {name: (min(v[name] for _, v in trials), max(v[name] for _, v in trials)) for name in names}


def _flat_ranges(ranges, names):
    return np.array([bound for name in names for bound in ranges[name]], dtype=np.float64)


def _narrow_slips(trials, top_k, names):
    """[(ranges, hint)] of the common slips, the ranges flat (low, high of each name in turn)."""
    by_acc = sorted(trials, key=lambda trial: trial[0], reverse=True)
    best = _span(by_acc[:top_k], names)
    slips = [
        (
            _span(by_acc[-top_k:], names),
            tr(
                "정확도가 낮은 시행부터 골랐습니다. 검증 정확도가 높은 순서로 정렬하세요 (reverse=True).",
                "These are the worst trials. Sort by validation accuracy, highest first (reverse=True).",
            ),
        ),
        (
            _span(trials[:top_k], names),
            tr(
                "정렬하지 않고 앞에서부터 top_k개를 골랐나요? 검증 정확도가 높은 순서로 정렬한 뒤 고르세요.",
                "Did you take the first top_k trials without sorting? Sort by validation accuracy first.",
            ),
        ),
        (
            _span(trials, names),
            tr(
                "모든 시행의 범위를 구했습니다. 상위 top_k개만으로 범위를 좁힙니다.",
                "That is the range of all trials. The narrowed range spans the best top_k only.",
            ),
        ),
        (
            _span(by_acc[: top_k + 1], names),
            tr("top_k개보다 하나 더 골랐습니다. [:top_k]이면 됩니다.", "One trial too many: [:top_k] is enough."),
        ),
        (
            _span(by_acc[: max(top_k - 1, 1)], names),
            tr("top_k개보다 하나 덜 골랐습니다. [:top_k]이면 됩니다.", "One trial too few: [:top_k] is enough."),
        ),
        (
            {name: (high, low) for name, (low, high) in best.items()},
            tr(
                "low와 high가 바뀌었습니다. (가장 작은 값, 가장 큰 값) 순서로 돌려주세요.",
                "low and high are swapped: return (smallest, largest).",
            ),
        ),
        (
            {name: tuple(np.log10(pair)) for name, pair in best.items()},
            tr(
                "지수(log10)를 돌려주었나요? 범위는 값 그대로 돌려줍니다. 로그 스케일은 값을 뽑을 때 씁니다.",
                "Did you return exponents (log10)? Return the values; the log scale is for sampling.",
            ),
        ),
    ]
    return [(_flat_ranges(ranges, names), hint) for ranges, hint in slips]


def _as_ranges(result, names):
    """The student's {name: (low, high)} as a flat float array; a verdict when it has another form."""
    if not isinstance(result, dict) or set(result) != set(names):
        got = sorted(result) if isinstance(result, dict) else type(result).__name__
        raise _Wrong(
            tr(
                f"narrow는 하이퍼파라미터마다 범위를 담은 dict {{이름: (low, high)}}를 돌려주어야 합니다. "
                f"이름이 {sorted(names)}이어야 하는데 {got}입니다.",
                f"narrow must return a dict {{name: (low, high)}} with the names {sorted(names)}, got {got}.",
            )
        )
    for name in names:
        if np.shape(result[name]) != (2,):
            raise _Wrong(
                tr(
                    f"범위 {name!r}의 값은 (low, high) 두 숫자여야 하는데 {result[name]!r}입니다.",
                    f"The range {name!r} must be two numbers (low, high), got {result[name]!r}.",
                )
            )
    return _as_array(_flat_ranges(result, names), tr("범위", "the ranges"), (2 * len(names),))


def _call_narrow(fn, trials, top_k, where):
    """fn(trials, top_k), with a hint for sorting the pairs themselves (which compares dicts on a tie)."""
    try:
        return _call(fn, "narrow", {"trials": trials, "top_k": top_k})
    except _Wrong as wrong:
        if "not supported between instances of 'dict'" not in str(wrong):
            raise
        raise _Wrong(
            tr(
                f"{where}: {wrong}. 정확도가 같은 시행이 있으면 sorted가 dict끼리 비교하려 합니다. "
                "정확도만으로 정렬하세요: sorted(trials, key=lambda trial: trial[0], reverse=True).",
                f"{where}: {wrong}. With tied accuracies sorted compares the dicts. Sort by the accuracy alone: "
                "sorted(trials, key=lambda trial: trial[0], reverse=True).",
            )
        ) from None


def check_narrow(fn):
    """Check narrow(trials, top_k) -> {name: (low, high)}: each range spans the values of the best top_k trials.

    trials: a list of (val_acc, {name: value}) pairs. Four cases, one with tied accuracies (sorted() on the
    pairs themselves would compare the dicts); the list passed in must keep its order. Prints the verdict.
    """
    _check_function("fn", fn)

    def check():
        for trials, top_k in _narrow_cases():
            names = list(trials[0][1])
            where = tr(f"시행 {len(trials)}개, top_k={top_k}일 때", f"with {len(trials)} trials, top_k={top_k}")
            order = [id(trial) for trial in trials]
            result = _call_narrow(fn, trials, top_k, where)
            if [id(trial) for trial in trials] != order:
                raise _Wrong(
                    tr(
                        "narrow가 받은 trials 리스트의 순서를 바꾸었습니다. trials.sort() 대신 새 리스트를 만드는 "
                        "sorted(trials, ...)를 쓰세요.",
                        "narrow reordered the trials list it was given. Use sorted(trials, ...), which makes a new "
                        "list, instead of trials.sort().",
                    )
                )
            got = _as_ranges(result, names)
            expected = _flat_ranges(solutions.narrow(trials, top_k), names)
            if not _close(got, expected, rtol=1e-12, atol=0):
                hint = _named_slip(got, _narrow_slips(trials, top_k, names)) or tr(
                    "검증 정확도가 높은 순서로 상위 top_k개를 고르고, 이름마다 (최솟값, 최댓값)을 구하세요.",
                    "Take the top_k trials by validation accuracy and, per name, their (smallest, largest) value.",
                )
                raise _Wrong(tr(f"{where} 범위가 틀렸습니다. {hint}", f"The ranges are wrong {where}. {hint}"))
        return tr(
            "통과! 네 가지 경우 모두 상위 top_k개 시행의 범위를 정확히 골랐습니다.",
            "Passed! In all four cases the ranges span exactly the best top_k trials.",
        )

    return _run(tr("범위 좁히기(narrow) 확인", "Checking narrow"), check)


# --- Answers and stubs --------------------------------------------------------------------------------------------

SOLUTIONS = (
    "batchnorm_forward",
    "batchnorm_backward",
    "weight_decay",
    "dropout_forward",
    "dropout_backward",
    "sample_log_uniform",
    "narrow",
)


def show_solution(name):
    """Print the answer to exercise `name` (one of SOLUTIONS): the source of helpers.solutions.<name>."""
    if name not in SOLUTIONS:
        raise ValueError(f"name must be one of {', '.join(map(repr, SOLUTIONS))}, got {name!r}")
    print(inspect.getsource(getattr(solutions, name)))


STUBS = {
    "batchnorm_forward": """\
def batchnorm_forward(x, gamma, beta, eps):
    # μ = 1/N Σ x_i,  σ² = 1/N Σ (x_i − μ)²,  x̂ = (x − μ)/√(σ² + ε),  y = γ x̂ + β   (미니배치 방향: axis=0)
    # x: (N, D), gamma, beta: (D,). (out, cache)를 돌려줍니다. cache에는 역전파에 필요한 값을 담으세요.
    return None
""",
    "batchnorm_backward": """\
def batchnorm_backward(dout, cache):
    # dβ = Σ dout,  dγ = Σ dout · x̂,  dx̂ = dout · γ;  dx는 계산 그래프를 거꾸로: x̂ → (x − μ), σ² → μ
    # (모두 합치면 dx = (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) / √(σ² + ε), mean은 axis=0)
    # cache: batchnorm_forward가 돌려준 것. (dx, dgamma, dbeta)를 돌려줍니다.
    return None
""",
    "weight_decay": """\
def weight_decay(weights, lam):
    # 벌칙 = ½ λ Σ ||W||²  (||W||² = W의 모든 원소의 제곱의 합),  각 W의 기울기 = λ W
    # weights: 가중치 배열의 리스트. (penalty, grads)를 돌려줍니다. grads는 weights와 같은 순서의 리스트입니다.
    return None
""",
    "dropout_forward": """\
def dropout_forward(x, dropout_ratio, train, rng):
    # 훈련: 각 뉴런을 확률 dropout_ratio로 삭제하는 mask(남기면 1, 삭제하면 0)를 rng로 만들고  out = x · mask
    # 테스트: out = x · (1 − dropout_ratio),  mask = None.   (out, mask)를 돌려줍니다.
    return None
""",
    "dropout_backward": """\
def dropout_backward(dout, mask):
    # dx = dout · mask   (삭제된 뉴런으로는 기울기도 흐르지 않습니다)
    return None
""",
    "sample_log_uniform": """\
def sample_log_uniform(low, high, size, rng):
    # 지수 e ~ 균등분포 [log10(low), log10(high)),  값 = 10 ** e   (size개를 rng에서 뽑습니다)
    return None
""",
    "narrow": """\
def narrow(trials, top_k):
    # 검증 정확도가 높은 순서로 상위 top_k개 시행을 고르고, 하이퍼파라미터마다 새 범위 = (그 값들의 최솟값, 최댓값)
    # trials: (val_acc, {"lr": ..., "weight_decay": ...}) 쌍의 리스트. {이름: (low, high)}를 돌려줍니다.
    return None
""",
}
MINUTES = {
    "batchnorm_forward": 10,
    "batchnorm_backward": 15,
    "weight_decay": 5,
    "dropout_forward": 10,
    "dropout_backward": 5,
    "sample_log_uniform": 5,
    "narrow": 10,
}

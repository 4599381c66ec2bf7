"""helpers.exercises: each checker passes the answer, names each planted mistake, and reports a stub as not done.

The planted mistakes are the slips students make; each is a small function below, next to the phrase of the
Korean verdict it must get. The answers in helpers.solutions are checked against the package's own layers.
"""

import time
import warnings

import numpy as np
import pytest
from fakes import trial_curves

from helpers import exercises, solutions
from helpers import search as search_module
from helpers.layers import BatchNorm, Dropout
from helpers.net import MultiLayerNet


@pytest.fixture(autouse=True)
def korean(monkeypatch):
    monkeypatch.setenv("DL4_LANG", "ko")


def verdict(capsys, checker, *functions):
    """(what checker(*functions) returns, what it printed)."""
    result = checker(*functions)
    return result, capsys.readouterr().out


def raises_error(*args):
    raise ValueError("boom")


# --- 01. batchnorm_forward ----------------------------------------------------------------------------------------


def bn_unbiased_variance(x, gamma, beta, eps):
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + eps)
    return gamma * x_hat + beta, None


def bn_eps_outside_sqrt(x, gamma, beta, eps):
    x_hat = (x - x.mean(axis=0)) / (np.sqrt(x.var(axis=0)) + eps)
    return gamma * x_hat + beta, None


def bn_wrong_axis(x, gamma, beta, eps):
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta, None


def bn_wrong_axis_no_keepdims(x, gamma, beta, eps):
    mu, var = x.mean(axis=1), x.var(axis=1)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta, None


def bn_gamma_beta_swapped(x, gamma, beta, eps):
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return beta * x_hat + gamma, None


def bn_variance_without_1_over_n(x, gamma, beta, eps):
    mu = x.mean(axis=0)
    var = np.sum((x - mu) ** 2, axis=0)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta, None


def bn_fixed_eps(x, gamma, beta, eps):
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-7)
    return gamma * x_hat + beta, None


def bn_no_scale_shift(x, gamma, beta, eps):
    return (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps), None


def bn_out_only(x, gamma, beta, eps):
    return solutions.batchnorm_forward(x, gamma, beta, eps)[0]


def bn_nan(x, gamma, beta, eps):
    out, cache = solutions.batchnorm_forward(x, gamma, beta, eps)
    return out * np.nan, cache


def bn_in_place(x, gamma, beta, eps):
    x -= x.mean(axis=0)
    return gamma * x / np.sqrt((x**2).mean(axis=0) + eps) + beta, None


@pytest.mark.parametrize(
    ("mistake", "phrase"),
    [
        (bn_unbiased_variance, "분산을 N-1로 나누었나요?"),
        (bn_eps_outside_sqrt, "ε을 제곱근 밖에서 더했나요?"),
        (bn_wrong_axis, "axis=1(특징 방향)로 구했나요?"),
        (bn_wrong_axis_no_keepdims, "axis=1(특징 방향)로 구했나요?"),
        (bn_gamma_beta_swapped, "γ와 β가 바뀌었습니다"),
        (bn_variance_without_1_over_n, "분산에서 1/N을 빠뜨렸나요?"),
        (bn_fixed_eps, "고정된 값(1e-07)을 썼나요?"),
        (bn_no_scale_shift, "y = γ x̂ + β"),
        (bn_out_only, "(out, cache) 2개를 담은 튜플이어야"),
        (bn_nan, "NaN이나 무한대가"),
        (bn_in_place, "입력 x의 값이 바뀌었습니다"),
        (raises_error, "실행 중 오류가 났습니다. ValueError: boom"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_check_batchnorm_forward_names_the_mistake(capsys, mistake, phrase):
    passed, text = verdict(capsys, exercises.check_batchnorm_forward, mistake)
    assert passed is False
    assert "✗" in text and phrase in text, text


def test_check_batchnorm_forward_accepts_the_answer(capsys):
    passed, text = verdict(capsys, exercises.check_batchnorm_forward, solutions.batchnorm_forward)
    assert passed is True, text
    assert "✓ 통과!" in text


# --- 01. batchnorm_backward ---------------------------------------------------------------------------------------


def bn_backward_without_mean_terms(dout, cache):
    xc, std, x_hat, gamma = cache
    return dout * gamma / std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def bn_backward_without_variance_term(dout, cache):
    xc, std, x_hat, gamma = cache
    dx_hat = dout * gamma
    return (dx_hat - dx_hat.mean(axis=0)) / std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def bn_backward_swapped_dgamma_dbeta(dout, cache):
    dx, dgamma, dbeta = solutions.batchnorm_backward(dout, cache)
    return dx, dbeta, dgamma


def bn_backward_dbeta_mean(dout, cache):
    dx, dgamma, _ = solutions.batchnorm_backward(dout, cache)
    return dx, dgamma, dout.mean(axis=0)


def bn_backward_without_gamma(dout, cache):
    xc, std, x_hat, gamma = cache
    dx, dgamma, dbeta = solutions.batchnorm_backward(dout, (xc, std, x_hat, np.ones_like(gamma)))
    return dx, (dout * x_hat).sum(axis=0), dbeta


def bn_backward_dgamma_times_x(dout, cache):
    xc, std, x_hat, gamma = cache
    dx, _, dbeta = solutions.batchnorm_backward(dout, cache)
    return dx, (dout * (xc + 1.0)).sum(axis=0), dbeta  # xc + 1 stands in for x: not x̂


def bn_backward_sums_over_features(dout, cache):
    xc, std, x_hat, gamma = cache
    dx, _, _ = solutions.batchnorm_backward(dout, cache)
    return dx, (dout * x_hat).sum(axis=1), dout.sum(axis=1)


def bn_backward_in_place(dout, cache):
    xc, std, x_hat, gamma = cache
    dout *= gamma  # changes the caller's dout
    return solutions.batchnorm_backward(dout / gamma, cache)


@pytest.mark.parametrize(
    ("mistake", "phrase"),
    [
        (bn_backward_without_mean_terms, "평균 μ와 분산 σ²을 거치는 항이 빠졌습니다"),
        (bn_backward_without_variance_term, "분산 σ²을 거치는 항이 빠졌습니다"),
        (bn_backward_swapped_dgamma_dbeta, "dgamma와 dbeta가 바뀌었습니다"),
        (bn_backward_dbeta_mean, "dbeta는 평균이 아니라 배치 방향의 합입니다"),
        (bn_backward_without_gamma, "dx에 γ를 곱하지 않았나요?"),
        (bn_backward_dgamma_times_x, "dγ = Σ dout · x̂"),
        (bn_backward_sums_over_features, "axis=1(특징 방향)로 더했나요?"),
        (bn_backward_in_place, "입력 dout의 값이 바뀌었습니다"),
        (raises_error, "실행 중 오류가 났습니다"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_check_batchnorm_backward_names_the_mistake(capsys, mistake, phrase):
    passed, text = verdict(capsys, exercises.check_batchnorm_backward, solutions.batchnorm_forward, mistake)
    assert passed is False
    assert phrase in text, text


def test_check_batchnorm_backward_reports_the_relative_errors(capsys):
    passed, text = verdict(
        capsys, exercises.check_batchnorm_backward, solutions.batchnorm_forward, solutions.batchnorm_backward
    )
    assert passed is True, text
    assert "✓ 통과!" in text and "dx" in text and "dgamma" in text and "dbeta" in text


def test_check_batchnorm_backward_wants_a_right_forward_first(capsys):
    passed, text = verdict(
        capsys, exercises.check_batchnorm_backward, bn_unbiased_variance, solutions.batchnorm_backward
    )
    assert passed is False
    assert "순전파가 먼저 맞아야 합니다" in text and "N-1" in text, text


def test_check_batchnorm_backward_does_not_trust_the_answer_only():
    """The gradient check is numerical: a backward that is wrong by a tiny amount fails."""

    def almost(dout, cache):
        dx, dgamma, dbeta = solutions.batchnorm_backward(dout, cache)
        return dx * (1 + 1e-4), dgamma, dbeta

    assert exercises.check_batchnorm_backward(solutions.batchnorm_forward, almost) is False


# --- 02. weight_decay ---------------------------------------------------------------------------------------------


def wd_without_half(weights, lam):
    return lam * sum(np.sum(W**2) for W in weights), [lam * W for W in weights]


def wd_norm_not_squared(weights, lam):
    return 0.5 * lam * sum(np.linalg.norm(W) for W in weights), [lam * W for W in weights]


def wd_only_last_weight(weights, lam):
    penalty = 0
    for W in weights:
        penalty = 0.5 * lam * np.sum(W**2)
    return penalty, [lam * W for W in weights]


def wd_half_in_gradient(weights, lam):
    return 0.5 * lam * sum(np.sum(W**2) for W in weights), [0.5 * lam * W for W in weights]


def wd_reversed_grads(weights, lam):
    return 0.5 * lam * sum(np.sum(W**2) for W in weights), [lam * W for W in reversed(weights)]


def wd_without_lambda(weights, lam):
    return 0.5 * sum(np.sum(W**2) for W in weights), [W for W in weights]


def wd_in_place(weights, lam):
    penalty = 0.5 * lam * sum(np.sum(W**2) for W in weights)
    for W in weights:
        W *= lam
    return penalty, weights


def wd_appends_to_weights(weights, lam):
    weights.append(np.zeros(1))
    return solutions.weight_decay(weights[:-1], lam)


def wd_penalty_per_weight(weights, lam):
    return [0.5 * lam * np.sum(W**2) for W in weights], [lam * W for W in weights]


@pytest.mark.parametrize(
    ("mistake", "phrase"),
    [
        (wd_without_half, "½을 빠뜨렸나요?"),
        (wd_norm_not_squared, "노름 ||W||를 더했나요?"),
        (wd_only_last_weight, "마지막 가중치만 더했나요?"),
        (wd_half_in_gradient, "기울기에 ½이 남아 있습니다"),
        (wd_reversed_grads, "순서가 거꾸로입니다"),
        (wd_without_lambda, "λ를 곱하지 않았나요?"),
        (wd_in_place, "입력 weights의 값이 바뀌었습니다"),
        (wd_appends_to_weights, "입력 weights의 값이 바뀌었습니다"),
        (wd_penalty_per_weight, "penalty는 숫자 하나여야"),
        (raises_error, "실행 중 오류가 났습니다"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_check_weight_decay_names_the_mistake(capsys, mistake, phrase):
    passed, text = verdict(capsys, exercises.check_weight_decay, mistake)
    assert passed is False
    assert phrase in text, text


def test_check_weight_decay_accepts_the_answer(capsys):
    passed, text = verdict(capsys, exercises.check_weight_decay, solutions.weight_decay)
    assert passed is True, text


# --- 03. dropout --------------------------------------------------------------------------------------------------


def do_keeps_with_ratio(x, dropout_ratio, train, rng):
    if not train:
        return x * (1 - dropout_ratio), None
    mask = rng.random(x.shape) < dropout_ratio
    return x * mask, mask


def do_inverted(x, dropout_ratio, train, rng):
    if not train:
        return x, None
    mask = rng.random(x.shape) > dropout_ratio
    return x * mask / (1 - dropout_ratio), mask


def do_test_scaling_forgotten(x, dropout_ratio, train, rng):
    if not train:
        return x, None
    return solutions.dropout_forward(x, dropout_ratio, train, rng)


def do_test_scaled_by_ratio(x, dropout_ratio, train, rng):
    if not train:
        return x * dropout_ratio, None
    return solutions.dropout_forward(x, dropout_ratio, train, rng)


def do_global_random(x, dropout_ratio, train, rng):
    if not train:
        return x * (1 - dropout_ratio), None
    mask = np.random.rand(*x.shape) > dropout_ratio
    return x * mask, mask


def do_fresh_generator(x, dropout_ratio, train, rng):
    return solutions.dropout_forward(x, dropout_ratio, train, np.random.default_rng())


def do_fixed_seed(x, dropout_ratio, train, rng):
    return solutions.dropout_forward(x, dropout_ratio, train, np.random.default_rng(0))


def do_drops_at_test_time(x, dropout_ratio, train, rng):
    out, mask = solutions.dropout_forward(x, dropout_ratio, True, rng)
    return (out, mask) if train else (out * (1 - dropout_ratio), None)


def do_test_mask_not_none(x, dropout_ratio, train, rng):
    out, mask = solutions.dropout_forward(x, dropout_ratio, train, rng)
    return out, np.ones_like(x) if mask is None else mask


def do_backward_without_mask(dout, mask):
    return dout


def do_backward_inverted(dout, mask):
    return dout * mask / 0.5  # the check's backward case uses dropout_ratio 0.5


FORWARD_MISTAKES = [
    (do_keeps_with_ratio, "dropout_ratio의 확률로 남기고 있습니다"),
    (do_inverted, "역 드롭아웃(inverted dropout)"),
    (do_test_scaling_forgotten, "테스트 때 (1 − dropout_ratio)를 곱하지 않았습니다"),
    (do_test_scaled_by_ratio, "남기는 비율 (1 − dropout_ratio)를 곱하세요"),
    (do_global_random, "인자로 받은 rng에서 난수를 뽑으세요"),
    (do_fresh_generator, "인자로 받은 rng에서 난수를 뽑으세요"),
    (do_fixed_seed, "rng의 시드를 바꾸어도 mask가 똑같습니다"),
    (do_drops_at_test_time, "테스트 때는 뉴런을 삭제하지 않습니다"),
    (do_test_mask_not_none, "mask로 None을 돌려주세요"),
    (raises_error, "dropout_forward 실행 중 오류가 났습니다"),
]
BACKWARD_MISTAKES = [
    (do_backward_without_mask, "dx에 mask를 곱하지 않았습니다"),
    (do_backward_inverted, "역전파에서 (1 − dropout_ratio)로 나누었나요?"),
    (raises_error, "dropout_backward 실행 중 오류가 났습니다"),
]


@pytest.mark.parametrize(("mistake", "phrase"), FORWARD_MISTAKES, ids=lambda value: getattr(value, "__name__", ""))
def test_check_dropout_names_the_forward_mistake(capsys, mistake, phrase):
    passed, text = verdict(capsys, exercises.check_dropout, mistake, solutions.dropout_backward)
    assert passed is False
    assert phrase in text, text


@pytest.mark.parametrize(("mistake", "phrase"), BACKWARD_MISTAKES, ids=lambda value: getattr(value, "__name__", ""))
def test_check_dropout_names_the_backward_mistake(capsys, mistake, phrase):
    passed, text = verdict(capsys, exercises.check_dropout, solutions.dropout_forward, mistake)
    assert passed is False
    assert phrase in text, text


def test_check_dropout_accepts_the_answer_and_float_masks(capsys):
    def float_mask(x, dropout_ratio, train, rng):
        if not train:
            return x * (1 - dropout_ratio), None
        mask = (rng.random(x.shape) > dropout_ratio).astype(x.dtype)
        return x * mask, mask

    for forward in (solutions.dropout_forward, float_mask):
        passed, text = verdict(capsys, exercises.check_dropout, forward, solutions.dropout_backward)
        assert passed is True, text


# --- 04. sample_log_uniform ---------------------------------------------------------------------------------------


def lu_linear(low, high, size, rng):
    return rng.uniform(low, high, size)


def lu_log10_then_exp(low, high, size, rng):
    return np.exp(rng.uniform(np.log10(low), np.log10(high), size))


def lu_ln_then_power_of_ten(low, high, size, rng):
    return 10 ** rng.uniform(np.log(low), np.log(high), size)


def lu_integer_exponents(low, high, size, rng):
    return 10.0 ** rng.integers(np.log10(low), np.log10(high), size)


def lu_grid(low, high, size, rng):
    return np.logspace(np.log10(low), np.log10(high), size)


def lu_global_random(low, high, size, rng):
    return 10 ** np.random.uniform(np.log10(low), np.log10(high), size)


def lu_exponents_only(low, high, size, rng):
    return rng.uniform(np.log10(low), np.log10(high), size)


def lu_one_value(low, high, size, rng):
    return 10 ** rng.uniform(np.log10(low), np.log10(high))


@pytest.mark.parametrize(
    ("mistake", "phrase"),
    [
        (lu_linear, "선형(linear) 균등 분포로 뽑았습니다"),
        (lu_log10_then_exp, "log10으로 뽑고 np.exp로 되돌렸나요?"),
        (lu_ln_then_power_of_ten, "np.log(자연로그)로 구하고 10 **로 되돌렸나요?"),
        (lu_integer_exponents, "지수를 정수로 뽑았나요"),
        (lu_grid, "high와 같은 값이 나왔습니다"),
        (lu_global_random, "인자로 받은 rng에서 뽑으세요"),
        (lu_exponents_only, "지수만 돌려주었나요?"),
        (lu_one_value, "값을 하나만 돌려주었습니다"),
        (raises_error, "실행 중 오류가 났습니다"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_check_log_uniform_names_the_mistake(capsys, mistake, phrase):
    passed, text = verdict(capsys, exercises.check_log_uniform, mistake)
    assert passed is False
    assert phrase in text, text


def test_check_log_uniform_accepts_the_answer_and_natural_logs(capsys):
    def natural(low, high, size, rng):
        return np.exp(rng.uniform(np.log(low), np.log(high), size))

    for fn in (solutions.sample_log_uniform, natural):
        passed, text = verdict(capsys, exercises.check_log_uniform, fn)
        assert passed is True, text


# --- 04. narrow ---------------------------------------------------------------------------------------------------


def span(trials, names):
    return {name: (min(v[name] for _, v in trials), max(v[name] for _, v in trials)) for name in names}


def nr_worst_first(trials, top_k):
    return span(sorted(trials, key=lambda trial: trial[0])[:top_k], trials[0][1])


def nr_unsorted(trials, top_k):
    return span(trials[:top_k], trials[0][1])


def nr_all_trials(trials, top_k):
    return span(trials, trials[0][1])


def nr_sorts_the_pairs(trials, top_k):
    return span(sorted(trials, reverse=True)[:top_k], trials[0][1])


def nr_sorts_in_place(trials, top_k):
    trials.sort(key=lambda trial: trial[0], reverse=True)
    return span(trials[:top_k], trials[0][1])


def nr_low_high_swapped(trials, top_k):
    return {name: (high, low) for name, (low, high) in solutions.narrow(trials, top_k).items()}


def nr_one_too_many(trials, top_k):
    return solutions.narrow(trials, top_k + 1)


def nr_a_list(trials, top_k):
    return list(solutions.narrow(trials, top_k).values())


@pytest.mark.parametrize(
    ("mistake", "phrase"),
    [
        (nr_worst_first, "정확도가 낮은 시행부터 골랐습니다"),
        (nr_unsorted, "정렬하지 않고 앞에서부터 top_k개를 골랐나요?"),
        (nr_all_trials, "모든 시행의 범위를 구했습니다"),
        (nr_sorts_the_pairs, "정확도만으로 정렬하세요: sorted(trials, key=lambda trial: trial[0], reverse=True)"),
        (nr_sorts_in_place, "trials 리스트의 순서를 바꾸었습니다"),
        (nr_low_high_swapped, "low와 high가 바뀌었습니다"),
        (nr_one_too_many, "top_k개보다 하나 더 골랐습니다"),
        (nr_a_list, "dict {이름: (low, high)}를 돌려주어야 합니다"),
        (raises_error, "실행 중 오류가 났습니다"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_check_narrow_names_the_mistake(capsys, mistake, phrase):
    passed, text = verdict(capsys, exercises.check_narrow, mistake)
    assert passed is False
    assert phrase in text, text


def test_check_narrow_accepts_the_answer(capsys):
    passed, text = verdict(capsys, exercises.check_narrow, solutions.narrow)
    assert passed is True, text


# --- Every checker: stubs, non-functions, time --------------------------------------------------------------------

CHECKERS = {
    "check_batchnorm_forward": (exercises.check_batchnorm_forward, ["batchnorm_forward"]),
    "check_batchnorm_backward": (exercises.check_batchnorm_backward, ["batchnorm_forward", "batchnorm_backward"]),
    "check_weight_decay": (exercises.check_weight_decay, ["weight_decay"]),
    "check_dropout": (exercises.check_dropout, ["dropout_forward", "dropout_backward"]),
    "check_log_uniform": (exercises.check_log_uniform, ["sample_log_uniform"]),
    "check_narrow": (exercises.check_narrow, ["narrow"]),
}


def stub(name):
    """The function the notebook's exercise cell defines before the student writes anything."""
    namespace = {}
    exec(exercises.STUBS[name], namespace)
    return namespace[name]


@pytest.mark.parametrize("checker_name", CHECKERS)
def test_a_stub_is_reported_as_not_implemented(capsys, checker_name):
    checker, names = CHECKERS[checker_name]
    for i in range(len(names)):
        # the stub in place i, the answers before it: each stub is reported in turn
        functions = [getattr(solutions, name) for name in names[:i]] + [stub(name) for name in names[i:]]
        passed, text = verdict(capsys, checker, *functions)
        assert passed is False
        assert "아직 구현하지 않았습니다" in text and names[i] in text, text


@pytest.mark.parametrize("checker_name", CHECKERS)
def test_a_checker_refuses_what_is_not_a_function(checker_name):
    checker, names = CHECKERS[checker_name]
    for i in range(len(names)):
        functions = [getattr(solutions, name) for name in names]
        functions[i] = "batchnorm_forward"
        with pytest.raises(TypeError, match="must be a function"):
            checker(*functions)


@pytest.mark.parametrize("checker_name", CHECKERS)
def test_a_checker_accepts_the_answer_within_a_second(capsys, checker_name):
    checker, names = CHECKERS[checker_name]
    start = time.perf_counter()
    passed = checker(*(getattr(solutions, name) for name in names))
    elapsed = time.perf_counter() - start
    assert passed is True, capsys.readouterr().out
    assert elapsed < 1.0, f"{checker_name} took {elapsed:.2f} s"


def test_the_verdicts_speak_english_when_asked(capsys, monkeypatch):
    monkeypatch.setenv("DL4_LANG", "en")
    passed, text = verdict(capsys, exercises.check_batchnorm_forward, bn_unbiased_variance)
    assert passed is False
    assert "Did you divide the variance by N - 1?" in text, text
    passed, text = verdict(capsys, exercises.check_dropout, stub("dropout_forward"), stub("dropout_backward"))
    assert "Not implemented yet" in text, text


@pytest.mark.parametrize("name", exercises.SOLUTIONS)
def test_show_solution_prints_the_answer(capsys, name):
    exercises.show_solution(name)
    text = capsys.readouterr().out
    assert text.startswith(f"def {name}(") and "return" in text
    namespace = {"np": np}
    exec(text, namespace)
    assert callable(namespace[name])


def test_show_solution_names_what_it_knows():
    with pytest.raises(ValueError, match="name must be one of 'batchnorm_forward'.*got 'batchnorm'"):
        exercises.show_solution("batchnorm")


def test_every_stub_has_an_answer_and_a_time():
    assert set(exercises.STUBS) == set(exercises.SOLUTIONS) == set(exercises.MINUTES)
    assert all(5 <= minutes <= 15 for minutes in exercises.MINUTES.values())
    for name in exercises.STUBS:
        assert stub(name)(*[None] * stub(name).__code__.co_argcount) is None


# --- The answers agree with the package -------------------------------------------------------------------------


def test_batchnorm_answer_matches_the_batchnorm_layer():
    rng = np.random.default_rng(1)
    x = 2 + 3 * rng.standard_normal((8, 5))
    gamma, beta, dout = rng.uniform(0.5, 2, 5), rng.standard_normal(5), rng.standard_normal((8, 5))
    layer = BatchNorm(5, eps=1e-5, dtype=np.float64)
    layer.params["gamma"], layer.params["beta"] = gamma.copy(), beta.copy()
    out, cache = solutions.batchnorm_forward(x, gamma, beta, 1e-5)
    np.testing.assert_allclose(out, layer.forward(x, train=True), rtol=1e-12, atol=1e-12)
    dx, dgamma, dbeta = solutions.batchnorm_backward(dout, cache)
    np.testing.assert_allclose(dx, layer.backward(dout), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dgamma, layer.grads["gamma"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dbeta, layer.grads["beta"], rtol=1e-12, atol=1e-12)


class Float32Draws:
    """A generator whose random() draws as Dropout's does (float32), so both see the same numbers."""

    def __init__(self, seed):
        self.generator = np.random.default_rng(seed)

    def random(self, shape):
        return self.generator.random(shape, dtype=np.float32)


@pytest.mark.parametrize("ratio", [0.15, 0.5])
def test_dropout_answer_matches_the_dropout_layer(ratio):
    x = np.random.default_rng(2).standard_normal((50, 40))
    dout = np.random.default_rng(3).standard_normal((50, 40))
    layer = Dropout(ratio, inverted=False, rng=np.random.default_rng(4))
    out, mask = solutions.dropout_forward(x, ratio, True, Float32Draws(4))
    np.testing.assert_array_equal(out, layer.forward(x, train=True))
    np.testing.assert_array_equal(mask, layer.mask)
    np.testing.assert_array_equal(solutions.dropout_backward(dout, mask), layer.backward(dout))
    test_out, test_mask = solutions.dropout_forward(x, ratio, False, Float32Draws(4))
    np.testing.assert_allclose(test_out, layer.forward(x, train=False), rtol=1e-15)
    assert test_mask is None


def test_weight_decay_answer_matches_the_net():
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    settings = {"input_size": 4, "hidden_sizes": (5, 5), "output_size": 3, "dtype": np.float64, "seed": 6}
    net = MultiLayerNet(weight_decay_lambda=0.3, **settings)
    plain = MultiLayerNet(weight_decay_lambda=0.0, **settings)
    names = [name for name in net.params if name.startswith("W")]
    penalty, grads = solutions.weight_decay([net.params[name] for name in names], 0.3)
    assert penalty == pytest.approx(net.weight_decay_term(), rel=1e-12)
    assert penalty == pytest.approx(net.loss(x, t) - plain.loss(x, t), rel=1e-9)
    with_decay, without = net.gradient(x, t), plain.gradient(x, t)
    for name, grad in zip(names, grads, strict=True):
        np.testing.assert_allclose(grad, with_decay[name] - without[name], rtol=1e-9, atol=1e-12)


def test_log_uniform_answer_matches_the_search():
    rng, search_rng = np.random.default_rng(7), np.random.default_rng(7)
    values = solutions.sample_log_uniform(1e-6, 1e-2, 20, rng)
    expected = [search_module.sample_log_uniform({"lr": (1e-6, 1e-2)}, search_rng)["lr"] for _ in range(20)]
    np.testing.assert_allclose(values, expected, rtol=1e-14)


def test_narrow_answer_is_the_search_narrow_before_rounding():
    rng = np.random.default_rng(8)
    ranges = {"lr": (1e-6, 1e-2), "weight_decay": (1e-8, 1e-4)}
    trials = []
    for i, acc in enumerate(rng.permutation(np.linspace(0.1, 0.9, 30))):
        values = {"lr": 10 ** rng.uniform(-5, -3), "weight_decay": 10 ** rng.uniform(-7, -5)}
        trials.append(search_module.Trial(i, values, trial_curves(float(acc)), seed=i, epochs_spent=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # values away from the edges: the search neither warns nor grows the range
        proposal = search_module.narrow(search_module.SearchResults(trials, ranges), top_k=8)
    answer = solutions.narrow([(trial.val_acc, trial.values) for trial in trials], 8)
    assert set(answer) == set(proposal)
    for name, (low, high) in answer.items():
        assert proposal[name][0] <= low < 1.1 * proposal[name][0]  # rounded down to 2 significant digits
        assert proposal[name][1] / 1.1 < high <= proposal[name][1]  # rounded up

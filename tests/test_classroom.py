"""The class's shared search: a real server process on 127.0.0.1 (a free port, a temporary database), students'
laptops as worker processes, and what goes wrong in a classroom: a laptop closed mid-trial, the server killed
and restarted, a mistyped address, a hostile name on the projector."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import optuna
import pytest

from helpers import classroom
from helpers.data import load_mnist
from helpers.tuning import SeminarObjective

ROOT = Path(__file__).resolve().parent.parent
# Tiny trials: 150 images (120 train / 30 val), a 784-10-10 net, 3 epochs (one rung of successive halving at 2).
TINY = ["--epochs", "3", "--samples", "150", "--hidden", "10", "--heartbeat", "1", "--grace", "3"]
HOSTILE = "<img src=x onerror=alert(1)>"

WORKER = textwrap.dedent(
    """
    import sys
    from helpers import classroom

    address, name, n_trials, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    trials = classroom.contribute(address, name=name, n_trials=n_trials, seed=seed, progress=False)
    print("done", len(trials), flush=True)
    """
)


def start_worker(address, name, n_trials, seed):
    """A student's laptop: a separate process that calls contribute."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DL4_MNIST_SOURCE": "offline"}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, address, name, str(n_trials), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def class_trials(address):
    storage = classroom.connect(address)
    try:
        return classroom._load_class_study(storage, address).get_trials()
    finally:
        storage.close()


def wait_for(condition, timeout, step=0.1):
    """Poll condition() until it returns something true; that value, or None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


@pytest.fixture
def server(tmp_path):
    servers = []

    def start(options=TINY, port=None, db=None):
        servers.append(classroom.ServerProcess(db or tmp_path / "class.db", port=port, options=options))
        return servers[-1]

    yield start
    for process in servers:
        process.kill()


@pytest.fixture(scope="module")
def data():
    return load_mnist(source="offline", verbose=False)


# --- Arguments and addresses: clear errors, before any network ------------------------------------------------


@pytest.mark.parametrize(
    ("address", "error"),
    [
        (13000, TypeError),
        ("localhost", ValueError),
        ("host:port", ValueError),
        ("host:70000", ValueError),
        (":1", ValueError),
        ("http://127.0.0.1:13000", ValueError),
        ("127.0.0.1:13000/", ValueError),
    ],
)
def test_bad_address_format_is_refused_at_once(address, error):
    with pytest.raises(error, match="address"):
        classroom.contribute(address, name="민지")


def test_parse_address_reads_host_and_port():
    assert classroom.parse_address("192.168.0.10:13000") == ("192.168.0.10", 13000)
    assert classroom.parse_address("[::1]:13000") == ("::1", 13000)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": 7}, TypeError, "name"),
        ({"name": "   "}, ValueError, "name"),
        ({"name": "x" * 41}, ValueError, "name"),
        ({"name": "민지", "n_trials": 0}, ValueError, "n_trials"),
        ({"name": "민지", "n_trials": 2.5}, TypeError, "n_trials"),
        ({"name": "민지", "seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_arguments_are_refused_before_connecting(kwargs, error, match):
    started = time.monotonic()
    with pytest.raises(error, match=match):
        classroom.contribute("127.0.0.1:1", **kwargs)
    assert time.monotonic() - started < 1


@pytest.fixture
def silent_port():
    """A port where something listens but never speaks gRPC (a wrong port, another program)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize(
    "address", ["127.0.0.1:1", "no-such-host.invalid:13000", pytest.param("silent", marks=pytest.mark.slow)]
)
def test_unreachable_server_gives_a_clear_error_within_10_s(address, silent_port):
    address = f"127.0.0.1:{silent_port}" if address == "silent" else address
    for call in (
        lambda: classroom.contribute(address, name="민지", n_trials=1),
        lambda: classroom.leaderboard(address),
    ):
        started = time.monotonic()
        with pytest.raises(ConnectionError, match="no class server answers"):
            call()
        assert time.monotonic() - started < 10


# --- The objective ------------------------------------------------------------------------------------------------


def test_seminar_objective_trains_what_validation_objective_trains(fake_digits):
    from helpers.search import ValidationObjective

    (x, t), _ = fake_digits(150, 0)
    validation = ValidationObjective((x[:120], t[:120]), (x[120:], t[120:]), hidden_sizes=(10,))
    objective = SeminarObjective(validation, epochs=4, seed=3)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=3)
    for trial in study.trials:
        history = validation.train(trial.params, 4, trial.user_attrs["seed"])
        assert trial.value == float(history.final("val"))
        assert list(trial.intermediate_values.values()) == [float(a) for a in history.eval_acc["val"][1:]]


def test_seminar_objective_stops_a_pruned_trial_early(fake_digits):
    from helpers.search import ValidationObjective

    (x, t), _ = fake_digits(150, 0)
    validation = ValidationObjective((x[:120], t[:120]), (x[120:], t[120:]), hidden_sizes=(10,))
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=2.0))  # prunes all
    study.optimize(SeminarObjective(validation, epochs=5), n_trials=2)
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.PRUNED] * 2
    assert [len(trial.intermediate_values) for trial in study.trials] == [1, 1]


def test_optuna_figure_is_a_png_and_keeps_optunas_style_and_pyplot_state_to_itself():
    import matplotlib
    from matplotlib import pyplot
    from optuna.visualization.matplotlib import plot_intermediate_values

    from helpers.fonts import use_korean_font
    from helpers.tuning import optuna_figure

    use_korean_font()  # the series' own font setting, made once on importing helpers.plots, is not Optuna's
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda trial: trial.report(trial.suggest_float("x", 0, 1), 1) or 0.0, n_trials=3)
    before = dict(matplotlib.rcParams)
    image = optuna_figure(plot_intermediate_values, study, legend=False)
    assert image.data[:4] == b"\x89PNG"
    assert dict(matplotlib.rcParams) == before  # Optuna's plt.style.use("ggplot") did not outlive the figure
    assert pyplot.get_fignums() == []


def test_seminar_objective_refuses_what_it_cannot_train():
    with pytest.raises(TypeError, match="ValidationObjective"):
        SeminarObjective({"x": 1})


# --- The leaderboard's HTML -------------------------------------------------------------------------------------


def hostile_study():
    """An in-memory study as a hostile client could fill it: HTML in names, a name that is not a string,
    an lr that is text, a value that is not finite."""
    study = optuna.create_study(direction="maximize")
    lr = optuna.distributions.FloatDistribution(1e-6, 1e-2, log=True)
    wd = optuna.distributions.FloatDistribution(1e-8, 1e-4, log=True)
    text = optuna.distributions.CategoricalDistribution(["<b>bold</b>"])

    def add(value, name, params=None, distributions=None):
        params = params or {"lr": 1e-3, "weight_decay": 1e-6}
        distributions = distributions or {"lr": lr, "weight_decay": wd}
        study.add_trial(
            optuna.trial.create_trial(
                value=value, params=params, distributions=distributions, user_attrs={"name": name}
            )
        )

    add(0.9, HOSTILE)
    add(0.8, {"<script>": "alert(1)"})
    add(0.7, "민지 & <b>친구</b>")
    add(0.95, "text lr", {"lr": "<b>bold</b>", "weight_decay": 1e-6}, {"lr": text, "weight_decay": wd})
    add(float("inf"), "infinite")
    return study


def test_leaderboard_html_escapes_every_client_text():
    page = classroom.standings_html(classroom.standings(hostile_study()))
    for raw in ("<img", "<script", "<b>친구", "<b>bold"):
        assert raw not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "민지 &amp; &lt;b&gt;친구&lt;/b&gt;" in page


def test_leaderboard_ranks_only_trials_with_real_numbers():
    board = classroom.standings(hostile_study())
    assert board.counts["COMPLETE"] == 5
    assert [row["val_acc"] for row in board.best] == [0.9, 0.8, 0.7]  # no text lr, no infinite value
    assert board.best[1]["name"] == "?"  # a name that is not a string


# --- The real server ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_contribute_runs_trials_under_the_students_name(server, data):
    running = server()
    trials = classroom.contribute(running.address, name=HOSTILE, n_trials=3, seed=0, data=data, progress=False)
    states = {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    assert [trial.state in states for trial in trials] == [True] * 3
    saved = class_trials(running.address)
    assert [trial.user_attrs["name"] for trial in saved] == [HOSTILE] * 3
    assert all("heartbeat" not in trial.user_attrs for trial in saved)  # the heartbeat is not stored

    board = classroom.leaderboard(running.address, interval=0.5)
    try:
        assert "&lt;img src=x onerror=alert(1)&gt;" in board.table.value and "<img" not in board.table.value
        assert bytes(board.plot.value[:4]) == b"\x89PNG"
        assert board.running
    finally:
        board.close()
    assert not board.running


@pytest.mark.slow
def test_load_30_laptops_by_5_trials_all_finish_and_the_leaderboard_shows_the_best(server):
    running = server(TINY[:6])  # the default heartbeat (2 s) and grace period (10 s): a busy laptop is not dead
    started = time.monotonic()
    workers = [start_worker(running.address, f"학생{i:02d}", 5, i) for i in range(30)]
    outputs = []
    for worker in workers:
        output, _ = worker.communicate(timeout=180)
        outputs.append(output)
    elapsed = time.monotonic() - started
    print(f"load test: 30 workers x 5 trials in {elapsed:.1f} s")
    assert [worker.returncode for worker in workers] == [0] * 30, "\n".join(outputs)

    trials = class_trials(running.address)
    states = [trial.state for trial in trials]
    assert len(trials) == 150
    assert sorted(trial.number for trial in trials) == list(range(150))
    assert set(states) <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}, set(states)
    assert sorted(trial.user_attrs["name"] for trial in trials) == sorted(
        f"학생{i:02d}" for i in range(30) for _ in range(5)
    )

    complete = [trial for trial in trials if trial.state == optuna.trial.TrialState.COMPLETE]
    best = max(complete, key=lambda trial: (trial.value, -trial.number))
    board = classroom.leaderboard(running.address, interval=60)
    board.close()
    assert f"{len(complete)} · " in board.table.value and f"{150 - len(complete)} · " in board.table.value
    first_row = board.table.value.split("<td>")[1:6]
    assert first_row[0].startswith("1<") and first_row[1].startswith(best.user_attrs["name"])
    assert first_row[4].startswith(f"{best.value:.2f}")


@pytest.mark.slow
def test_a_laptop_killed_mid_trial_leaves_a_fail_within_the_grace_period_and_the_others_finish(server):
    long_trials = ["--epochs", "300", *TINY[2:]]  # 300 epochs: each trial runs a few seconds
    running = server(long_trials)
    victim = start_worker(running.address, "victim", 1, 0)

    def victim_mid_trial():
        return [
            trial
            for trial in class_trials(running.address)
            if trial.user_attrs.get("name") == "victim" and len(trial.intermediate_values) >= 3
        ]

    # The others start once the victim is past the first rung (epoch 2): started together, a better trial of
    # theirs could reach that rung first and successive halving would prune the victim before it is killed.
    assert wait_for(victim_mid_trial, 60), "the victim's trial never started"
    others = [start_worker(running.address, f"other{i}", 2, i + 1) for i in range(2)]
    victim.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    victim.wait()

    def victim_failed():
        trials = [trial for trial in class_trials(running.address) if trial.user_attrs.get("name") == "victim"]
        return trials[0].state == optuna.trial.TrialState.FAIL

    assert wait_for(victim_failed, 15, step=0.2), "the killed laptop's trial stayed RUNNING"
    grace, heartbeat = 3, 1
    assert time.monotonic() - killed <= grace + 2 * heartbeat + 2  # a beat, the grace, one watchdog round, slack

    for other in others:
        output, _ = other.communicate(timeout=120)
        assert other.returncode == 0, output
    trials = [trial for trial in class_trials(running.address) if trial.user_attrs["name"] != "victim"]
    assert len(trials) == 4 and all(trial.state.is_finished() and trial.state.name != "FAIL" for trial in trials)


def student_mid_trial(address, name, data):
    """A student's contribute() in a thread, returned once her trial has reported an epoch: (thread, errors), where
    errors collects (time, ConnectionError) if the call fails."""
    errors = []

    def student():
        try:
            classroom.contribute(address, name=name, n_trials=1, seed=0, data=data, progress=False)
        except ConnectionError as error:
            errors.append((time.monotonic(), error))

    thread = threading.Thread(target=student)
    thread.start()
    assert wait_for(lambda: any(t.intermediate_values for t in class_trials(address)), 60)
    return thread, errors


@pytest.mark.slow
def test_server_killed_and_restarted_keeps_every_finished_trial(server, data, tmp_path):
    first = server()
    port = int(first.address.rsplit(":", 1)[1])
    classroom.contribute(first.address, name="민지", n_trials=4, seed=0, data=data, progress=False)
    before = [(t.number, t.state, t.value, t.params, t.user_attrs["name"]) for t in class_trials(first.address)]

    # A student's call while the server dies: a clear ConnectionError, no hang.
    slow = server(["--epochs", "2000", *TINY[2:]], db=tmp_path / "slow.db")
    thread, errors = student_mid_trial(slow.address, "지훈", data)
    slow.kill()
    killed = time.monotonic()
    thread.join(timeout=classroom.CALL_TIMEOUT + 10)
    assert not thread.is_alive(), "contribute hung after the server died"
    assert errors and "stopped answering" in str(errors[0][1]) and errors[0][0] - killed < classroom.CALL_TIMEOUT + 2

    board = classroom.leaderboard(first.address, interval=0.5)
    first.kill()  # SIGKILL: no clean shutdown
    assert wait_for(lambda: "응답하지" in board.status.value or "does not answer" in board.status.value, 10)
    again = server(port=port)
    after = [(t.number, t.state, t.value, t.params, t.user_attrs["name"]) for t in class_trials(again.address)]
    assert after == before
    assert wait_for(lambda: "갱신" in board.status.value or "updated" in board.status.value, 15), board.status.value
    board.close()
    classroom.contribute(again.address, name="민지", n_trials=1, seed=1, data=data, progress=False)  # goes on
    assert len(class_trials(again.address)) == len(before) + 1

    # The trial that was running on the killed server ends FAIL once it runs again (its heartbeat is stale).
    slow_again = server(db=tmp_path / "slow.db")
    assert wait_for(lambda: [t.state.name for t in class_trials(slow_again.address)] == ["FAIL"], 3 + 2 + 5, step=0.2)


@pytest.mark.slow
def test_a_frozen_server_gives_a_clear_error_after_the_call_deadline_not_a_hang(server, data):
    running = server(["--epochs", "2000", *TINY[2:]])  # long trials: the server freezes mid-trial
    thread, errors = student_mid_trial(running.address, "민지", data)
    running.process.send_signal(signal.SIGSTOP)  # a laptop lid closed, the Wi-Fi gone: no answer, no reset
    frozen = time.monotonic()
    try:
        thread.join(timeout=classroom.CALL_TIMEOUT + 10)
        assert not thread.is_alive(), "contribute hung on a frozen server"
        assert errors and "DEADLINE_EXCEEDED" in str(errors[0][1])
        assert errors[0][0] - frozen < classroom.CALL_TIMEOUT + 3
    finally:
        running.process.send_signal(signal.SIGCONT)


@pytest.mark.parametrize(
    ("setting", "error", "match"),
    [
        ({"epochs": 0}, ValueError, "epochs"),
        ({"n_samples": 100}, ValueError, "n_samples"),
        ({"hidden_sizes": 100}, TypeError, "hidden_sizes"),
        ({"batch": 10}, ValueError, "unknown keys"),
    ],
)
def test_a_setting_no_laptop_could_train_is_refused(setting, error, match):
    with pytest.raises(error, match=match):
        classroom.check_setting(setting)


@pytest.mark.slow
def test_the_server_command_refuses_a_bad_setting_before_it_starts(tmp_path):
    with pytest.raises(RuntimeError, match="epochs"):
        classroom.ServerProcess(tmp_path / "class.db", options=["--epochs", "0"])
    assert not (tmp_path / "class.db").exists()


@pytest.mark.slow
def test_a_second_server_on_the_same_file_or_port_is_refused(server, tmp_path):
    running = server()
    port = int(running.address.rsplit(":", 1)[1])
    with pytest.raises(RuntimeError, match="in use by another class server"):
        classroom.ServerProcess(tmp_path / "class.db", options=TINY)
    with pytest.raises(RuntimeError, match="already running"):
        classroom.ServerProcess(tmp_path / "other.db", port=port, options=TINY)

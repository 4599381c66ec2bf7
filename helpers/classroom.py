"""The class searches together: one Optuna study on the lecturer's computer, trials from every student's laptop,
the class's best on the projector.

    python -m helpers.classroom serve --port 13000 --db class.db          the lecturer, once (Ctrl+C stops it)
    classroom.contribute("192.168.0.10:13000", name="민지", n_trials=5)   each student, in a notebook
    classroom.leaderboard("192.168.0.10:13000")                           the projector: a live panel

How it fits together:
- One process, the server, opens the database file (SQLite through Optuna's RDBStorage) and puts Optuna's gRPC
  storage proxy (optuna.storages.run_grpc_proxy_server) in front of it. A SQLite file must never be opened by
  several processes of one search (Optuna's FAQ): the laptops talk to the server only, over the network
  (GrpcStorageProxy), and the server refuses to start on a file another server holds.
- The server saves the search's setting (epochs, training images, net, ranges) in the study; every laptop reads
  it, so all trials train the same objective (helpers.tuning.SeminarObjective). Each laptop samples with TPE and
  prunes with successive halving against all the class's trials so far: the class narrows the range together.
- A laptop closed mid-trial: while a trial runs, its laptop sends a heartbeat every few seconds, and the server
  fails a RUNNING trial whose last heartbeat is older than the grace period (optuna.storages.fail_stale_trials,
  on the server's clock). GrpcStorageProxy has no heartbeat call of its own, so the heartbeat travels as the
  trial user attribute HEARTBEAT_KEY, which the server's storage records as Optuna's heartbeat (not stored).
- Every call to the server has a deadline: a wrong address, a stopped or unreachable server gives a
  ConnectionError within seconds, never a hang. A server restarted on the same file has every finished trial;
  a student then calls contribute again (the trial that was running when the server stopped ends FAIL).

What the class server does NOT protect against (it is made for one lesson on a classroom network):
- no authentication: anyone who reaches host:port can add trials, fail or change them, use any name, or fill
  the study with junk; the leaderboard escapes every text it shows, so a name cannot inject HTML or scripts;
- no encryption (no TLS): names and results cross the network in clear text;
- no limits: one client can send many requests or long texts and slow the server down for everyone.
The default host 127.0.0.1 accepts only this computer; --host 0.0.0.0 lets the whole network in. Use it on
the classroom's network only, and stop the server after class.
"""

import argparse
import contextlib
import html
import math
import numbers
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections import namedtuple
from dataclasses import dataclass
from pathlib import Path

import grpc
import ipywidgets as w
import numpy as np
import optuna
from optuna.exceptions import ExperimentalWarning, UpdateFinishedTrialError
from optuna.storages import GrpcStorageProxy, RDBStorage, fail_stale_trials, get_storage, run_grpc_proxy_server

# Optuna's generated gRPC stub and the client's trial cache: GrpcStorageProxy builds its channel in _setup, and
# a deadline on every call needs a channel of our own there (see _ClassStorageProxy).
from optuna.storages._grpc.auto_generated.api_pb2_grpc import StorageServiceStub
from optuna.storages._grpc.client import GrpcClientCache
from optuna.trial import TrialState
from tqdm.auto import tqdm

from helpers.checks import check_int, check_number, check_seed
from helpers.experiments import search_split
from helpers.lang import tr
from helpers.net import check_hidden_sizes
from helpers.search import SEMINAR_RANGES, ValidationObjective
from helpers.tuning import SeminarObjective

STUDY_NAME = "dl4-class-search"
NAME_KEY = "name"  # the trial user attribute that holds the student's name
HEARTBEAT_KEY = "heartbeat"  # the trial user attribute a laptop sends as its heartbeat (never stored)
CONNECT_TIMEOUT = 5.0  # seconds to reach the server before giving up
CALL_TIMEOUT = 10.0  # seconds one call to the server may take
# A channel's own connection (not one shared by every channel to the same address in this process), and retries
# at most 2 s apart once the server is gone (gRPC's default backoff grows to 2 minutes): a restarted server is
# found again within seconds.
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", -1),  # as Optuna's own channel: a big study is one long message
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 2000),
)
MAX_NAME_LENGTH = 40
MAX_TRIALS = 1000  # per contribute call
SETTING = {"epochs": 20, "n_samples": 500, "hidden_sizes": [100] * 6}  # the seminar's search, 20 epochs a trial
HEARTBEAT_INTERVAL = 2  # seconds between two heartbeats of a running trial
GRACE_PERIOD = 10  # seconds without a heartbeat before the server fails a running trial


# --- Addresses and arguments ----------------------------------------------------------------------------------


def parse_address(address):
    """ "192.168.0.10:13000" -> ("192.168.0.10", 13000); "[::1]:13000" for IPv6. Clear errors otherwise."""
    if not isinstance(address, str):
        raise TypeError(f"address must be a string 'host:port', e.g. '192.168.0.10:13000', got {address!r}")
    if "/" in address:  # a URL such as http://192.168.0.10:13000/: the server speaks gRPC, not the web
        raise ValueError(
            f"address must be 'host:port' alone, without http:// or a path, e.g. '192.168.0.10:13000', got {address!r}"
        )
    host, colon, port = address.strip().rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(
            f"address must be 'host:port' with a port 1..65535, e.g. '192.168.0.10:13000', got {address!r}"
        )
    return host, int(port)


def check_name(name):
    """A student's name: a non-empty string of at most MAX_NAME_LENGTH characters, spaces stripped."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string (your name, e.g. '민지'), got {name!r} ({type(name).__name__})")
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"name must have 1..{MAX_NAME_LENGTH} characters, got {name!r}")
    return name


def free_port(host="127.0.0.1"):
    """A TCP port that is free on `host` right now (for a demo or a test server)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


# --- The server ----------------------------------------------------------------------------------------------


class _ClassStorage(RDBStorage):
    """The server's RDBStorage. GrpcStorageProxy has no heartbeat call, so a laptop sends its heartbeat as the
    trial user attribute HEARTBEAT_KEY: recorded here as Optuna's heartbeat, on the server's clock."""

    def set_trial_user_attr(self, trial_id, key, value):
        if key == HEARTBEAT_KEY:
            self.record_heartbeat(trial_id)
        else:
            super().set_trial_user_attr(trial_id, key, value)


def _fast_sqlite(connection, _record):
    """Write-ahead log, synced at checkpoints: a write costs no disk flush of its own (about 15 ms less per
    call, measured on ext4). A killed server loses nothing; a power cut may lose the last moments' trials."""
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")


def check_setting(setting):
    """The setting of a new class search: {"epochs": >= 1, "n_samples": >= 125 (a 20 % validation split leaves
    at least one batch of 100 to train on), "hidden_sizes": [width, ...]}; missing keys take SETTING's."""
    setting = {**SETTING, **(setting or {})}
    unknown = sorted(set(setting) - set(SETTING))
    if unknown:
        raise ValueError(f"setting has unknown keys {unknown}; it knows {sorted(SETTING)}")
    return {
        "epochs": check_int("epochs", setting["epochs"], low=1),
        "n_samples": check_int("n_samples", setting["n_samples"], low=125),
        "hidden_sizes": list(check_hidden_sizes(setting["hidden_sizes"])),
    }


def open_class_study(db, setting=None, heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=GRACE_PERIOD):
    """The class study in the SQLite file `db`, created with `setting` if it is new, else loaded as saved.
    For the server process only. Returns (storage, study): the storage is the one the gRPC proxy serves."""
    heartbeat_interval = check_int("heartbeat_interval", heartbeat_interval, low=1)
    grace_period = check_int("grace_period", grace_period, low=heartbeat_interval + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        backend = _ClassStorage(
            f"sqlite:///{Path(db).resolve()}", heartbeat_interval=heartbeat_interval, grace_period=grace_period
        )
    import sqlalchemy  # the server's only: the laptops start faster without it

    sqlalchemy.event.listen(backend.engine, "connect", _fast_sqlite)
    backend.engine.dispose()  # connections opened before the listener (creating the tables) get the pragmas too
    storage = get_storage(backend)  # Optuna's in-process cache, as run_grpc_proxy_server's documentation asks
    study = optuna.create_study(storage=storage, study_name=STUDY_NAME, direction="maximize", load_if_exists=True)
    if "epochs" not in study.user_attrs:  # a new file; a saved one keeps the setting it was made with
        for key, value in {**check_setting(setting), "ranges": SEMINAR_RANGES}.items():
            study.set_user_attr(key, value)
    study.set_user_attr("heartbeat_interval", heartbeat_interval)  # the laptops beat as this server expects
    return storage, study


def _fail_stale_trials_every(study, seconds, stop):
    """The server's watchdog: every `seconds`, RUNNING trials whose heartbeat is older than the grace period
    end FAIL (their laptop was closed, crashed or lost the network)."""
    while not stop.wait(seconds):
        try:
            fail_stale_trials(study)
        except Exception as error:  # e.g. the database busy for a moment: try again at the next round
            print(f"stale-trial check failed, retrying: {error!r}", file=sys.stderr)


def _check_port_free(host, port):
    """A clear error now, rather than a second server sharing the port: gRPC binds with SO_REUSEPORT."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        if os.name == "posix":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart may follow a stop at once
        try:
            probe.bind((host, port))
        except OSError as error:
            raise OSError(
                f"cannot listen on {host}:{port} ({error.strerror}): is a class server already running there? "
                "Stop it, or choose another --port"
            ) from None


def _lock(db):
    """Hold an exclusive lock on db + '.lock' for as long as this process lives (the OS drops it when the
    process ends, also on a crash): a second server on the same file stops with a clear error."""
    handle = open(f"{db}.lock", "a+b")  # noqa: SIM115 - held open for the server's whole life
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise OSError(f"{db} is in use by another class server: one file, one server (stop the other one)") from None
    return handle


def lan_address():
    """This computer's address on the local network, as the students' laptops see it (best guess)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # UDP: chooses the outgoing interface, sends nothing
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def serve(db, host="127.0.0.1", port=13000, setting=None, heartbeat_interval=HEARTBEAT_INTERVAL,
          grace_period=GRACE_PERIOD):  # fmt: skip
    """Run the class server until Ctrl+C: the gRPC storage proxy in front of the one database file `db`."""
    port = check_int("port", port, low=1, high=65535)
    check_setting(setting)
    _check_port_free(host, port)
    lock = _lock(db)
    storage, study = open_class_study(db, setting, heartbeat_interval, grace_period)
    public = lan_address() if host in ("0.0.0.0", "::") else host
    done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    print(tr(f"수업 탐색 서버: {db} (끝난 시행 {done}개)", f"class search server: {db} ({done} finished trials)"))
    print(tr("설정:", "setting:"), {key: study.user_attrs[key] for key in ("epochs", "n_samples", "hidden_sizes")})
    if host in ("0.0.0.0", "::"):
        print(
            tr(
                "경고: 이 네트워크의 누구나 접속해 시행을 추가하거나 바꿀 수 있습니다(인증·암호화 없음). "
                "수업 네트워크에서만 쓰고, 수업이 끝나면 서버를 멈추세요.",
                "warning: anyone on this network can join and add or change trials (no authentication, no "
                "encryption). Use it on the classroom's network only, and stop the server after class.",
            )
        )
    print(tr(f"학생들이 입력할 주소: {public}:{port}", f"the address students type in: {public}:{port}"), flush=True)
    stop = threading.Event()
    watchdog = threading.Thread(
        target=_fail_stale_trials_every, args=(study, heartbeat_interval, stop), daemon=True, name="stale-trials"
    )
    watchdog.start()
    try:
        run_grpc_proxy_server(storage, host=host, port=port)
    except KeyboardInterrupt:
        print(
            tr(
                "서버를 멈췄습니다. 끝난 시행은 모두 파일에 있습니다.",
                "server stopped; every finished trial is in the file",
            )
        )
    finally:
        stop.set()
        lock.close()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m helpers.classroom", description="The class's shared search.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the class server (one database file, one server)")
    run.add_argument("--db", default="class.db", help="the SQLite file of the class's trials (default class.db)")
    run.add_argument("--host", default="127.0.0.1", help="127.0.0.1: this computer only; 0.0.0.0: the network")
    run.add_argument("--port", type=int, default=13000)
    run.add_argument("--epochs", type=int, default=SETTING["epochs"], help="epochs per trial (a new file only)")
    run.add_argument("--samples", type=int, default=SETTING["n_samples"], help="training + validation images")
    run.add_argument("--hidden", default="100,100,100,100,100,100", help="hidden layer sizes, comma separated")
    run.add_argument("--heartbeat", type=int, default=HEARTBEAT_INTERVAL, help="seconds between heartbeats")
    run.add_argument("--grace", type=int, default=GRACE_PERIOD, help="seconds without heartbeat before FAIL")
    args = parser.parse_args(argv)
    hidden = [int(size) for size in args.hidden.split(",")]
    setting = {"epochs": args.epochs, "n_samples": args.samples, "hidden_sizes": hidden}
    # The server's console stays readable: Optuna marks the gRPC proxy and the heartbeat as experimental, and
    # logs every start; this function prints what the lecturer needs.
    warnings.filterwarnings("ignore", category=ExperimentalWarning)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        serve(args.db, args.host, args.port, setting, args.heartbeat, args.grace)
    except (OSError, ValueError, TypeError) as error:
        parser.exit(1, f"error: {error}\n")


class ServerProcess:
    """`python -m helpers.classroom serve ...` as a child process (the notebook's demo, the tests).

    Starts it and waits until it answers (RuntimeError with its output if it does not within `timeout` s).
    .address: "host:port" for contribute and leaderboard; .output: its printed lines; .stop(), .kill().
    options: more command-line arguments, e.g. ["--epochs", "3"].
    """

    def __init__(self, db, port=None, host="127.0.0.1", options=(), timeout=30.0):
        port = free_port(host) if port is None else port
        self.address = f"{host}:{port}"
        self.command = [sys.executable, "-m", "helpers.classroom", "serve", "--db", str(db), "--host", host]
        self.command += ["--port", str(port), *map(str, options)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        package_root = str(Path(__file__).resolve().parent.parent)  # the child imports these same helpers
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self.output = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._wait_ready(timeout)

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line.rstrip("\n"))

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._reader.join(1)
                raise RuntimeError("the class server stopped at start:\n" + "\n".join(self.output))
            if any(line.startswith(("학생들이 입력할 주소", "the address students")) for line in self.output):
                try:
                    connect(self.address, timeout=1.0).close()
                    return
                except ConnectionError:
                    pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the class server did not answer within {timeout:g} s:\n" + "\n".join(self.output))

    def stop(self):
        """Stop it as Ctrl+C does, and wait for it to end."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT if os.name == "posix" else signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reader.join(1)

    def kill(self):
        """End it at once (SIGKILL): a crash, or a power cut."""
        self.process.kill()
        self.process.wait()
        self._reader.join(1)


# --- Joining: a laptop's side -----------------------------------------------------------------------------------


class _CallDetails(
    namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
    grpc.ClientCallDetails,
):
    pass


class _Deadline(grpc.UnaryUnaryClientInterceptor):
    """Gives every call without a deadline one of CALL_TIMEOUT seconds."""

    def intercept_unary_unary(self, continuation, details, request):
        if details.timeout is None:
            details = _CallDetails(
                details.method, CALL_TIMEOUT, details.metadata, details.credentials, details.wait_for_ready,
                details.compression,
            )  # fmt: skip
        return continuation(details, request)


class _ClassStorageProxy(GrpcStorageProxy):
    """GrpcStorageProxy with a channel of its own (CHANNEL_OPTIONS) and a deadline on every call. Optuna's sets
    none: a server that vanished from the network (its laptop closed, the Wi-Fi lost) would hang each call until
    TCP gives up, many minutes later."""

    def _setup(self):
        channel = grpc.insecure_channel(f"{self._host}:{self._port}", options=CHANNEL_OPTIONS)
        self._channel = grpc.intercept_channel(channel, _Deadline())
        self._stub = StorageServiceStub(self._channel)
        self._cache = GrpcClientCache(self._stub)


def _bracketed(host):
    """An IPv6 host as an address writes it: ::1 -> [::1]."""
    return f"[{host}]" if ":" in host else host


def _reachable(host, port, timeout):
    """True once a gRPC connection to host:port is up; False as soon as it fails (refused, unknown host) or
    after `timeout` seconds (nothing answers)."""
    settled = threading.Event()
    ready = []

    def watch(state):
        if state in (grpc.ChannelConnectivity.READY, grpc.ChannelConnectivity.TRANSIENT_FAILURE):
            ready.append(state == grpc.ChannelConnectivity.READY)
            settled.set()

    with grpc.insecure_channel(f"{_bracketed(host)}:{port}", options=CHANNEL_OPTIONS) as channel:
        channel.subscribe(watch, try_to_connect=True)
        settled.wait(timeout)
        channel.unsubscribe(watch)
    return bool(ready) and ready[0]


def connect(address, timeout=CONNECT_TIMEOUT):
    """A storage connected to the class server at `address` ("host:port"); ConnectionError if no server answers
    within `timeout` seconds. Close it with .close()."""
    host, port = parse_address(address)
    if not _reachable(host, port, timeout):
        raise ConnectionError(
            f"no class server answers at {address!r}: check the address the lecturer shows (host:port), that "
            "this computer is on the same network, and that the server is running"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return _ClassStorageProxy(host=_bracketed(host), port=port)


def _load_class_study(storage, address, sampler=None, pruner=None):
    try:
        return optuna.load_study(study_name=STUDY_NAME, storage=storage, sampler=sampler, pruner=pruner)
    except KeyError:
        raise ConnectionError(f"{address} answers, but it holds no class search: is it a class server?") from None
    except grpc.RpcError as error:
        if isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.UNIMPLEMENTED:
            raise ConnectionError(f"{address} answers, but it is not a class server: check the port") from None
        raise


def _lost(address, error):
    """The ConnectionError a failed call becomes: what happened, and what to do."""
    code = error.code().name if isinstance(error, grpc.Call) else type(error).__name__
    return ConnectionError(
        f"the class server at {address} stopped answering ({code}). The trials finished so far are saved on the "
        "server; when it runs again, call contribute again"
    )


class _Heartbeat:
    """While a trial runs, tells the server every `interval` seconds that this laptop is still on it."""

    def __init__(self, trial, interval):
        self.trial = trial
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="heartbeat")

    def _beat(self):
        while not self._stop.wait(self.interval):
            try:
                self.trial.set_user_attr(HEARTBEAT_KEY, 1)
            except (grpc.RpcError, UpdateFinishedTrialError):
                return  # the server is gone or failed the trial: the training thread finds out at its next call

    def __enter__(self):
        self.trial.set_user_attr(HEARTBEAT_KEY, 1)
        self._thread.start()
        return self

    def __exit__(self, exc_type, *exc):
        self._stop.set()
        if exc_type is None:  # (after an error the thread may wait for a server that is gone: let it)
            self._thread.join()


def class_objective(setting, data=None):
    """The objective every laptop trains: the server's setting on the seminar's data (SeminarObjective)."""
    train, val = search_split(data, check_int("n_samples", setting["n_samples"], low=2))
    validation = ValidationObjective(train, val, hidden_sizes=tuple(setting["hidden_sizes"]))
    ranges = {name: tuple(bounds) for name, bounds in setting["ranges"].items()}
    return SeminarObjective(validation, ranges, epochs=setting["epochs"], seed=0)


def contribute(address, name, n_trials=5, seed=None, data=None, progress=True):
    """Run `n_trials` trials of the class's search on this computer, under `name`; returns them (FrozenTrials).

    address: the class server's "host:port", as the lecturer shows it, e.g. "192.168.0.10:13000".
    name: how the leaderboard shows you (1..40 characters).
    seed: the seed of this laptop's sampler (TPE); None takes a fresh one, so that two laptops do not propose
        the same values. Training seeds come from the trial numbers.
    data: load_mnist()'s result; None loads it.
    Every trial reports its validation accuracy after each epoch and may be pruned (successive halving
    against the whole class's trials). ConnectionError when the server cannot be reached or stops answering.
    """
    name = check_name(name)
    n_trials = check_int("n_trials", n_trials, low=1, high=MAX_TRIALS)
    seed = None if seed is None else check_seed("seed", seed)
    storage = connect(address)
    mine = []
    try:
        study = _load_class_study(
            storage,
            address,
            sampler=optuna.samplers.TPESampler(seed=seed, constant_liar=True),  # liar: running trials count
            pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=2, reduction_factor=3),
        )
        setting = study.user_attrs
        objective = class_objective(setting, data)
        interval = check_int("heartbeat_interval", setting["heartbeat_interval"], low=1)
        desc = tr(f"{name}의 시행", f"{name}'s trials")
        with tqdm(total=n_trials, desc=desc, unit="trial", disable=not progress) as bar:
            for _ in range(n_trials):
                frozen = _run_one(study, objective, name, interval)
                mine.append(frozen)
                bar.set_postfix_str(_trial_line(frozen))
                bar.update(1)
    except grpc.RpcError as error:
        raise _lost(address, error) from None
    finally:
        storage.close()
    return mine


def _run_one(study, objective, name, interval):
    """One trial: ask, train with a heartbeat, tell. Returns its FrozenTrial."""
    trial = study.ask()
    try:
        trial.set_user_attr(NAME_KEY, name)
        with _Heartbeat(trial, interval):
            value = objective(trial)
    except optuna.TrialPruned:
        return study.tell(trial, state=TrialState.PRUNED, skip_if_finished=True)
    except UpdateFinishedTrialError:  # the server failed it (no heartbeat for too long, e.g. the laptop slept)
        return study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
    except grpc.RpcError:
        raise  # the server is gone: once it runs again, it fails this trial itself (its heartbeat is stale)
    except BaseException:  # Ctrl+C, a bug: say FAIL now rather than after the grace period
        with contextlib.suppress(grpc.RpcError):
            study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        raise
    return study.tell(trial, value, skip_if_finished=True)


def _trial_line(trial):
    if trial.state == TrialState.COMPLETE:
        return tr(f"검증 정확도 {trial.value:.2f}", f"val acc {trial.value:.2f}")
    return tr(
        {"PRUNED": "가지치기됨(pruned)", "FAIL": "실패"}.get(trial.state.name, trial.state.name), trial.state.name
    )


# --- The projector's leaderboard --------------------------------------------------------------------------------


@dataclass
class Standings:
    """The class's search at one moment.

    counts: {"COMPLETE": n, "PRUNED": n, "RUNNING": n, "FAIL": n, "WAITING": n}.
    best: the best COMPLETE trials, best first: dicts with number, name, lr, weight_decay, val_acc, epochs.
    points: (lr, weight_decay, val acc) of every COMPLETE trial; pruned: (lr, weight_decay) of the PRUNED ones.
    """

    counts: dict
    best: list
    points: list
    pruned: list


def _real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _shown_name(value):
    """A trial's name as plain text (any client can write anything there): a string, at most 40 characters."""
    text = value if isinstance(value, str) else "?"
    return text[:MAX_NAME_LENGTH]


def standings(study, top=10):
    """The class's search now (a Standings). Trials whose lr, weight decay or value are not finite numbers
    (a broken or hostile client) are counted but not ranked or drawn."""
    top = check_int("top", top, low=1)
    trials = study.get_trials(deepcopy=False)
    counts = {state.name: 0 for state in TrialState}
    rows, pruned = [], []
    for trial in trials:
        counts[trial.state.name] += 1
        lr, weight_decay = trial.params.get("lr"), trial.params.get("weight_decay")
        if not (_real(lr) and _real(weight_decay)):
            continue
        if trial.state == TrialState.COMPLETE and _real(trial.value):
            rows.append(
                {
                    "number": trial.number,
                    "name": _shown_name(trial.user_attrs.get(NAME_KEY)),
                    "lr": float(lr),
                    "weight_decay": float(weight_decay),
                    "val_acc": float(trial.value),
                    "epochs": len(trial.intermediate_values),
                }
            )
        elif trial.state == TrialState.PRUNED:
            pruned.append((float(lr), float(weight_decay)))
    rows.sort(key=lambda row: (-row["val_acc"], row["number"]))
    points = [(row["lr"], row["weight_decay"], row["val_acc"]) for row in rows]
    return Standings(counts, rows[:top], points, pruned)


def standings_html(board):
    """The counts and the best trials as an HTML table; every client-supplied text is escaped."""
    c = board.counts
    summary = tr(
        f"완료 {c['COMPLETE']} · 가지치기(pruned) {c['PRUNED']} · 실행 중 {c['RUNNING']} · 실패 {c['FAIL']}",
        f"done {c['COMPLETE']} · pruned {c['PRUNED']} · running {c['RUNNING']} · failed {c['FAIL']}",
    )
    head = [tr("순위", "rank"), tr("이름", "name"), tr("학습률(lr)", "lr"), "λ", tr("검증 정확도", "val acc")]
    lines = [f"<p><b>{html.escape(summary)}</b></p>", "<table>"]
    lines.append("<tr>" + "".join(f"<th>{html.escape(cell)}</th>" for cell in head) + "</tr>")
    for rank, row in enumerate(board.best, start=1):
        cells = [str(rank), row["name"], f"{row['lr']:.2e}", f"{row['weight_decay']:.1e}", f"{row['val_acc']:.2f}"]
        lines.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    if not board.best:
        lines.append(
            f"<tr><td colspan='5'>{html.escape(tr('아직 끝난 시행이 없습니다', 'no finished trial yet'))}</td></tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)


def plot_standings(board, ranges=SEMINAR_RANGES):
    """Every finished trial at (lr, λ), coloured by validation accuracy; pruned ones as grey crosses."""
    from helpers.plots import new_figure  # matplotlib: only the projector needs it, not the laptops' workers

    fig, ax = new_figure(6.0, 4.2)
    if board.pruned:
        lr, weight_decay = np.array(board.pruned).T
        ax.scatter(lr, weight_decay, marker="x", color="0.6", s=20, label=tr("가지치기됨(pruned)", "pruned"))
    if board.points:
        lr, weight_decay, acc = np.array(board.points).T
        points = ax.scatter(
            lr, weight_decay, c=acc, cmap="viridis", vmin=0, vmax=1, s=40, edgecolors="k", linewidths=0.4
        )
        fig.colorbar(points, ax=ax, label=tr("검증 정확도", "validation accuracy"))
        best = board.best[0]
        ax.plot(best["lr"], best["weight_decay"], marker="*", markersize=18, color="tab:red", markeredgecolor="k",
                linestyle="none", label=tr(f"최고: {best['val_acc']:.2f}", f"best: {best['val_acc']:.2f}"))  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*ranges["lr"])
    ax.set_ylim(*ranges["weight_decay"])
    ax.set_xlabel(tr("학습률(lr)", "learning rate"))
    ax.set_ylabel(tr("가중치 감소 λ", "weight decay λ"))
    ax.grid(alpha=0.3)
    if board.points or board.pruned:
        ax.legend(fontsize="small", loc="lower left")
    return fig


class Leaderboard(w.VBox):
    """The projector's live panel: the counts, the best trials, the scatter; refreshed every `interval` seconds
    by a thread it owns. .stop() (or closing the widget) ends the thread; .refresh() draws once, now."""

    def __init__(self, storage, address, interval=3.0, top=10):
        self.storage = storage
        self.address = address
        self.interval = interval
        self.top = top
        self.study = _load_class_study(storage, address, sampler=optuna.samplers.RandomSampler(seed=0))
        self.status = w.HTML()
        self.table = w.HTML()
        self.plot = w.Image(format="png", layout=w.Layout(width="480px"))
        super().__init__([self.status, w.HBox([self.table, self.plot])])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="leaderboard")

    def refresh(self):
        """Fetch the class's trials and redraw. False (and a status line) if the server does not answer."""
        try:
            board = standings(self.study, self.top)
        except grpc.RpcError as error:
            code = error.code().name if isinstance(error, grpc.Call) else "?"
            self.status.value = html.escape(
                tr(
                    f"서버가 응답하지 않습니다({code}). 다시 연결하는 중…",
                    f"the server does not answer ({code}); retrying…",
                )
            )
            return False
        self.table.value = standings_html(board)
        from helpers.plots import to_png

        self.plot.value = to_png(plot_standings(board))
        stamp = time.strftime("%H:%M:%S")
        self.status.value = html.escape(tr(f"{self.address} · {stamp} 갱신", f"{self.address} · updated {stamp}"))
        return True

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except Exception as error:  # whatever a client wrote, the projector's panel keeps running
                self.status.value = html.escape(tr(f"갱신 실패: {error!r}", f"refresh failed: {error!r}"))

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """End the refresh thread (the panel keeps its last frame)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(CALL_TIMEOUT + 1)
        self.storage.close()

    @property
    def running(self):
        return self._thread.is_alive()

    def close(self):
        self.stop()
        super().close()


def leaderboard(address, interval=3.0, top=10):
    """The live panel for the projector: the class's best `top` trials (name, lr, λ, val acc), a scatter over
    (lr, λ) coloured by val acc, the trials done, running and failed; refreshed every `interval` seconds.
    ConnectionError at once if no class server answers at `address`."""
    interval = check_number("interval", interval, low=0.5)  # seconds
    top = check_int("top", top, low=1, high=100)
    storage = connect(address)
    try:
        board = Leaderboard(storage, address, interval, top)
        if not board.refresh():
            raise ConnectionError(f"the class server at {address} answers but does not deliver its trials")
    except BaseException:
        storage.close()
        raise
    return board.start()


if __name__ == "__main__":
    main()

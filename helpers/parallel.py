"""Running a search's trials: here, one after the other (n_jobs=1), or in worker processes with the standard
library's concurrent.futures.ProcessPoolExecutor.

Every task is sent with the objective it trains (its data included), so a worker keeps nothing from one trial
to the next: no state lives in this module or in the workers. The cost is small: the seminar's objective
(500 images, 1.6 MB) is pickled and unpickled in about 1.5 ms, a tenth of one of its epochs (about 10 ms,
measured on a 2-core machine), and a trial trains for 20 to 50 epochs.

Workers are started with forkserver where it exists (never a fork of a kernel with running threads), else
spawn; both re-import the main module, so a script that searches with n_jobs > 1 needs
`if __name__ == "__main__":`.
"""

import bisect
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context

from threadpoolctl import threadpool_limits

from helpers.checks import check_int
from helpers.results import Trial


@dataclass(frozen=True)
class Task:
    """What one trial needs: its number, hyperparameter values, training seed and epochs."""

    index: int
    values: dict
    seed: int
    epochs: int


def run_task(objective, task):
    """Train one trial: the same Trial whichever process runs it."""
    history = objective.train(task.values, task.epochs, task.seed)
    return Trial(task.index, task.values, history, task.seed, history.epoch)


def check_n_jobs(n_jobs):
    """n_jobs: worker processes, 1 (no workers, run here) .. any; -1 means one per CPU core."""
    n_jobs = check_int("n_jobs", n_jobs)
    if n_jobs == -1:
        return os.cpu_count() or 1
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be -1 (one per CPU core) or an integer >= 1, got {n_jobs}")
    return n_jobs


def _one_blas_thread():
    """Each worker process runs one trial at a time on its own core: a second BLAS thread would only compete."""
    threadpool_limits(limits=1, user_api="blas")


class Workers:
    """The processes that run trials for the length of a with-block (a whole successive halving uses one set).

    n_jobs: worker processes wanted; no more are started than there are tasks, and none for n_jobs=1.
    Leaving the block ends the workers: tasks not started yet are cancelled. After an exception (a
    KeyboardInterrupt, an error in a callback) the block is left at once; a trial already running in a
    worker finishes there, then its process exits.
    """

    def __init__(self, n_jobs, n_tasks):
        self.n_workers = min(n_jobs, n_tasks)
        self.pool = None

    def __enter__(self):
        if self.n_workers > 1:
            method = "forkserver" if "forkserver" in get_all_start_methods() else "spawn"
            context = get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload(["helpers.objective"])  # numpy & co. imported once, not per worker
            self.pool = ProcessPoolExecutor(self.n_workers, context, initializer=_one_blas_thread)
        return self

    def __exit__(self, exc_type, exc, traceback):
        if self.pool is not None:
            self.pool.shutdown(wait=exc_type is None, cancel_futures=True)

    def run(self, objective, tasks, on_result=None):
        """Train every task with `objective`. After each finished trial, on_result(finished trials, in task
        order) is called here, in this process; when it returns True, the remaining tasks are cancelled.

        Returns (the finished trials in task order, whether on_result stopped the run).
        """
        order = {task.index: position for position, task in enumerate(tasks)}
        done = []

        def finished(trial):
            bisect.insort(done, trial, key=lambda t: order[t.index])
            return on_result is not None and on_result(list(done)) is True

        if self.pool is None:
            for task in tasks:
                if finished(run_task(objective, task)):
                    return done, True
            return done, False
        pending = {self.pool.submit(run_task, objective, task) for task in tasks}
        try:
            while pending:
                finished_now, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(finished_now, key=lambda f: order[f.result().index]):
                    if finished(future.result()):
                        return done, True
            return done, False
        finally:
            for future in pending:
                future.cancel()

"""Running test jobs at the same moment, each on its own database connection."""

import threading
from collections.abc import Callable

from django.db import connection


def in_parallel(jobs: list[Callable[[], object]]) -> None:
    """Start every job together (a barrier) in its own thread, wait for all, and fail with any
    error one of them raised."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as error:  # the test reports it below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

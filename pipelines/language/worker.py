"""The process the language step sends its batches to (``LANGUAGE_WORKER``).

One worker, forked from a fork server that imported only the language step (it never re-runs the caller's
main script and inherits none of the crawl's threads or sockets; spawn where fork servers do not exist).
Starting it (imports, langdetect's profiles) takes a few tenths of a second, so :meth:`DetectorProcess.start`
waits for it in a thread and reports back in the reactor thread. The worker watches the crawl process and
leaves when it is gone — after kill -9 too, when nothing else would tell it, and even while the killed crawl
is a zombie its parent has not reaped — so it never holds the crawl's output pipes or memory afterwards.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor

START_TIMEOUT = 60  # seconds; a worker not up by then is given up (detection stays in the crawl process)
PRELOAD = "pipelines.language.step"  # what the fork server imports: the step and the functions sent to the worker


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs; a killed process its parent has not reaped yet (a zombie) counts as gone."""
    if os.path.isdir("/proc/self"):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                return fh.read().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
        except OSError:
            return False
    try:  # no /proc here: ask the kernel (a zombie then still looks alive until it is reaped)
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _initialise(crawl_pid: int) -> None:
    """Worker initialiser: leave when the crawl process is gone, then load langdetect's profiles before the
    first batch arrives."""
    from .langdetect_fast import detect_batch

    def watch() -> None:
        while process_alive(crawl_pid):
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="crawl-watch", daemon=True).start()
    detect_batch(["warm up the language profiles in this worker process before the first batch arrives"])


def _peak_rss_mb() -> float:
    import resource

    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale, 1)


def _context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([PRELOAD])
        return ctx
    return multiprocessing.get_context("spawn")


class DetectorProcess:
    """One worker process; ``submit`` returns a concurrent Future, ``on_*`` callbacks run in the reactor."""

    def __init__(self) -> None:
        self.pool = ProcessPoolExecutor(1, mp_context=_context(), initializer=_initialise,
                                        initargs=(os.getpid(),))

    def start(self, on_started) -> None:
        """Start the worker beside the crawl; ``on_started(error or None)`` once it is up or failed."""
        threading.Thread(target=self._start, args=(on_started,), name="language-worker-start", daemon=True).start()

    def _start(self, on_started) -> None:
        from twisted.internet import reactor

        try:
            self.pool.submit(int).result(timeout=START_TIMEOUT)
            error = None
        except Exception as exc:  # noqa: BLE001 - reported in the reactor thread
            error = exc
        reactor.callFromThread(on_started, error)

    def submit(self, fn, *args) -> Future:
        return self.pool.submit(fn, *args)

    @staticmethod
    def when_done(future: Future, on_done, *args) -> None:
        """``on_done(future, *args)`` in the reactor thread once the worker answers (or dies)."""
        from twisted.internet import reactor

        future.add_done_callback(lambda fut: reactor.callFromThread(on_done, fut, *args))

    def peak_rss_mb(self) -> float | None:
        try:
            return self.pool.submit(_peak_rss_mb).result(timeout=30)
        except Exception:  # noqa: BLE001 - a dead worker has already been reported
            return None

    def shutdown(self, wait: bool) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=True)

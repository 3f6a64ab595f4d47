"""One writer at a time per dataset: an exclusive, non-blocking flock on ``OUTPUT_DIR/.lock``.

The kernel releases the lock when the holding process dies (even by kill -9), so a crashed run never
leaves a stale lock behind. The file records the holder's pid and run id for the error message.
"""
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

LOCK_NAME = ".lock"


class LockHeld(RuntimeError):
    """Another process holds the dataset lock."""


class RunLock:
    def __init__(self, output_dir: str | os.PathLike, owner: str):
        self.path = Path(output_dir) / LOCK_NAME
        self.owner = owner
        self.fd: int | None = None

    def acquire(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise LockHeld(f"{self.path} is held by another run ({holder or 'unknown holder'})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "owner": self.owner}).encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

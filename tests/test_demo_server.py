"""The demo server (crawler/demo_site/server.py) when a client goes away mid-answer: one debug line, no traceback."""
from __future__ import annotations

import logging
import socket
import struct
import time

from crawler.demo_site.server import DemoServer


def test_a_client_that_goes_away_mid_answer_is_one_debug_line_not_a_traceback(capsys, caplog):
    srv = DemoServer(latency_ms=300).start()  # the answer is written 0.3 s after the request arrives
    try:
        with caplog.at_level(logging.DEBUG, logger="crawler.demo_site.server"):
            s = socket.create_connection(("127.0.0.1", srv.port))
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
            s.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any("went away" in r.getMessage() for r in caplog.records):
                time.sleep(0.05)
    finally:
        srv.stop()
    lines = [r.getMessage() for r in caplog.records if "went away" in r.getMessage()]
    assert len(lines) == 1 and ("ConnectionResetError" in lines[0] or "BrokenPipeError" in lines[0]), lines
    assert "Traceback" not in capsys.readouterr().err

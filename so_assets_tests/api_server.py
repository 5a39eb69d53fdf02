"""A scripted Stack Exchange API on 127.0.0.1 for client tests: real HTTP, real sockets."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DROP = "drop"  # close the connection without answering
CUT_HEADERS = "cut-headers"  # send the status line and half the headers, then close


@dataclass
class Trickle:
    """Answer ``reply`` one byte every ``interval`` seconds (headers included)."""

    reply: Any
    interval: float = 1.0


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, bytes/str -> sent as is
    gzip: bool = True  # the real API always gzips


@dataclass
class Request:
    path: str
    params: dict[str, str]


@dataclass
class ScriptedApi:
    """Answers each path prefix from its queue of replies; the last reply of a queue repeats."""

    routes: dict[str, deque] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    handler: Any = None  # optional callable(path, params) -> Reply | DROP | None

    def add(self, prefix: str, *replies: Reply | str) -> None:
        self.routes.setdefault(prefix, deque()).extend(replies)

    def reply_for(self, path: str, params: dict[str, str]) -> Reply | str:
        if self.handler is not None:
            answer = self.handler(path, params)
            if answer is not None:
                return answer
        for prefix, queue in self.routes.items():
            if path.startswith(prefix) and queue:
                return queue.popleft() if len(queue) > 1 else queue[0]
        return Reply(400, {"error_id": 404, "error_name": "no_method",
                           "error_message": f"no route for {path}"})


class _Handler(BaseHTTPRequestHandler):
    api: ScriptedApi

    def do_GET(self) -> None:
        parsed = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        self.api.requests.append(Request(parsed.path, params))
        reply = self.api.reply_for(parsed.path, params)
        if reply == DROP:
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if reply == CUT_HEADERS:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if isinstance(reply, Trickle):
            self._trickle(reply)
            return
        self._send(reply)

    def _encode(self, reply: Reply) -> bytes:
        body = reply.body
        raw = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        return gzip.compress(raw) if reply.gzip else raw

    def _trickle(self, trickle: Trickle) -> None:
        raw = self._encode(trickle.reply)
        head = (f"HTTP/1.1 {trickle.reply.status} OK\r\nContent-Length: {len(raw)}\r\n"
                + ("Content-Encoding: gzip\r\n" if trickle.reply.gzip else "") + "\r\n")
        self.close_connection = True
        try:
            for byte in head.encode() + raw:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(trickle.interval)
        except OSError:
            return  # the client gave up

    def _send(self, reply: Reply) -> None:
        raw = self._encode(reply)
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        if reply.gzip:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ApiServer:
    """Context manager: ``with ApiServer() as server: server.url, server.api``."""

    def __init__(self) -> None:
        self.api = ScriptedApi()
        handler = type("Handler", (_Handler,), {"api": self.api})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/2.3"

    def __enter__(self) -> ApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

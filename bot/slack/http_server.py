"""The local runtime's HTTP server: Slack's requests, checked by ``bot.slack.http_guard``, straight to Bolt.

Acks are serialised by the GIL, so under a burst every one waits for the CPU
of all the others. wsgiref spent more of it than Bolt: header parsing through
the email package, a WSGI environ rebuilt into headers, and many small writes.
Here a request is read with a few ``readline`` calls, handed to Bolt as a
``BoltRequest`` and answered with one write, on a pool of running threads.
"""

from __future__ import annotations

import logging
import socketserver
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any, Protocol

from slack_bolt import App
from slack_bolt.request import BoltRequest

from bot.slack.http_guard import MAX_BODY_BYTES, WORDS, Refusal, check_request, logged

log = logging.getLogger(__name__)

# Slack's headers are a few hundred bytes; these bound what a stray client can make a thread hold.
MAX_LINE_BYTES = 8192
MAX_HEADERS = 100
# A client that stops sending frees its thread after this long.
READ_TIMEOUT_SECONDS = 10.0


class RequestHooks(Protocol):
    def begin(self) -> None: ...

    def end(self) -> None: ...


class SlackHttpServer(socketserver.TCPServer):
    """Serves Bolt's events ``path`` (POST only) on a pool of ``threads`` running threads.

    A thread per request (``ThreadingMixIn``) made the accept loop the bottleneck
    of a burst: each start waits for the new thread to get the GIL behind every
    busy one. Slow requests still cannot hold up the others beyond the pool's size.
    """

    allow_reuse_address = True
    # socketserver's default backlog of 5 refuses connections when a channel fires many commands at once.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: App, signing_secret: str | None, path: str,
                 threads: int, answering: RequestHooks | None = None) -> None:
        super().__init__(address, _SlackRequestHandler)
        self.app = app
        # Told when each request arrives and when its answer is out (the local runtime's acks-first).
        self.answering = answering
        self.signing_secret = signing_secret
        self.path = path
        self._handlers = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="studio-http")

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.answering is not None:
            self.answering.begin()
        try:
            self._handlers.submit(self._handle, request, client_address)
        except RuntimeError:  # closing: the request is not answered
            if self.answering is not None:
                self.answering.end()
            raise

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            if self.answering is not None:
                self.answering.end()

    def server_close(self) -> None:
        super().server_close()
        self._handlers.shutdown(wait=False)

    def answer(self, method: bytes, target: bytes, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, Any], str]:
        """Status, headers and body for one request (the body is read only for the events path)."""
        path, _, query = target.decode("latin-1").partition("?")
        if method != b"POST" or path != self.path:
            return 404, {}, "Not Found"
        refusal = check_request(body, headers, self.signing_secret)
        if refusal is not None:
            return _refused(refusal)
        # check_request found the body UTF-8.
        response = self.app.dispatch(BoltRequest(body=body.decode("utf-8"), query=query, headers={**headers}))
        return response.status, response.headers, response.body


class _SlackRequestHandler(socketserver.StreamRequestHandler):
    """One HTTP/1.1 request per connection, as wsgiref's server did: read, answer once, close."""

    server: SlackHttpServer
    timeout = READ_TIMEOUT_SECONDS

    def handle(self) -> None:
        try:
            request = self._read()
        except (TimeoutError, ConnectionError):
            return  # the client went away or stopped sending: nobody to answer
        if isinstance(request, Refusal):
            status, headers, text = _refused(request)
        else:
            try:
                status, headers, text = self.server.answer(*request)
            except Exception:
                # Bolt answers its listeners' errors itself; this is a bug of ours: 500, never a traceback to Slack.
                log.exception("could not answer a request from Slack")
                status, headers, text = 500, {}, "Internal Server Error"
        self._write(status, headers, text)
        log.debug("http: answered %d", status)

    def _read(self) -> tuple[bytes, bytes, dict[str, str], bytes] | Refusal:
        parts = self.rfile.readline(MAX_LINE_BYTES + 1).split()
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            return Refusal(400, "not an HTTP request")
        method, target, _ = parts
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = self.rfile.readline(MAX_LINE_BYTES + 1)
            if line in (b"\r\n", b"\n", b""):
                break
            name, colon, value = line.partition(b":")
            if not colon or len(line) > MAX_LINE_BYTES:
                return Refusal(400, "a malformed header line")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        else:
            return Refusal(400, f"more than {MAX_HEADERS} headers")
        length = headers.get("content-length", "0")
        if not length.isdigit():
            return logged(Refusal(400, "the Content-Length is not a number"))
        if int(length) > MAX_BODY_BYTES:
            return logged(Refusal(413, f"the body is over {MAX_BODY_BYTES:,} bytes"))
        return method, target, headers, self.rfile.read(int(length))

    def _write(self, status: int, headers: dict[str, Any], text: str) -> None:
        body = text.encode()
        lines = [f"HTTP/1.1 {status} {_phrase(status)}"]
        for name, values in headers.items():
            if name.lower() in ("content-length", "connection"):
                continue  # ours below
            lines.extend(f"{name}: {value}" for value in ([values] if isinstance(values, str) else values))
        if not any(name.lower() == "content-type" for name in headers):
            lines.append("Content-Type: text/plain; charset=utf-8")
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        try:
            self.wfile.write("\r\n".join(lines).encode("latin-1") + body)
        except (TimeoutError, ConnectionError):
            pass  # Slack gave up on this request; it retries


def _refused(refusal: Refusal) -> tuple[int, dict[str, Any], str]:
    return refusal.status, {}, WORDS[refusal.status]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"

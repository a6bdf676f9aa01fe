"""``bot.slack.http_guard``'s first look, in front of Bolt's WSGI adapter (the local HTTP runtime)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest

from bot.slack.http_guard import MAX_BODY_BYTES, WORDS, Refusal, check_request, logged

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment


class GuardedWsgiHandler(SlackRequestHandler):
    """Bolt's WSGI adapter with ``check_request`` in front of it (the local HTTP runtime)."""

    def __init__(self, app: App, signing_secret: str | None, path: str) -> None:
        super().__init__(app, path=path)
        self.signing_secret = signing_secret

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != self.path:
            return super().__call__(environ, start_response)
        body, refusal = _read_body(environ)
        refusal = refusal or check_request(body, _headers(environ), self.signing_secret)
        if refusal is not None:
            start_response(f"{refusal.status} {WORDS[refusal.status].title()}",
                           [("Content-Type", "text/plain; charset=utf-8")])
            return [WORDS[refusal.status].encode()]
        # Bolt reads the body again: hand it the bytes already read.
        return super().__call__({**environ, "wsgi.input": io.BytesIO(body)}, start_response)


def _read_body(environ: WSGIEnvironment) -> tuple[bytes, Refusal | None]:
    length = str(environ.get("CONTENT_LENGTH") or "0")
    if not length.isdigit():
        return b"", logged(Refusal(400, "the Content-Length is not a number"))
    if int(length) > MAX_BODY_BYTES:
        return b"", logged(Refusal(413, f"the body is over {MAX_BODY_BYTES:,} bytes"))
    return environ["wsgi.input"].read(int(length)), None


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    return {name: value for name, value in WsgiHttpRequest(environ).get_headers().items() if isinstance(value, str)}

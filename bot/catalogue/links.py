"""Download links for results too big for Slack, valid as long as the results are kept.

A presigned S3 URL made with a Lambda's role credentials stops working when those
temporary credentials expire (hours), whatever expiry it was signed with. So the
message carries a Studio link instead: an unguessable token on the ingress
Function URL, kept in the state store for the results' lifetime. Following it
answers with a redirect to a freshly presigned URL, valid for a few minutes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from bot.store import StateStore

RESULTS_PATH = "/results/"
# The redirect's presigned URL only has to last until the browser follows it.
REDIRECT_SECONDS = 300
_KEY_PREFIX = "results-link:"


def share_results(store: StateStore, base_url: str, key: str, days: int) -> str:
    """A link to the results object ``key`` that works for ``days`` days."""
    token = secrets.token_urlsafe(24)
    store.put(_KEY_PREFIX + token, key, max(1, days) * 86400)
    return base_url.rstrip("/") + RESULTS_PATH + token


def is_results_request(event: Mapping[str, Any]) -> bool:
    """A Function URL (payload v2) event that follows a results link."""
    return str(event.get("rawPath") or "").startswith(RESULTS_PATH)


def results_redirect(event: Mapping[str, Any], store: StateStore,
                     presign: Callable[[str, int], str]) -> dict[str, Any]:
    """Redirect to the results the link names, or say plainly that it has expired."""
    method = (event.get("requestContext") or {}).get("http", {}).get("method")
    if method not in ("GET", "HEAD"):
        return _page(405, "Open this link in a browser.")
    token = str(event.get("rawPath") or "")[len(RESULTS_PATH):]
    key = store.get(_KEY_PREFIX + token) if token.replace("-", "").replace("_", "").isalnum() else None
    if key is None:
        return _page(404, "This download link has expired or is not valid; the results are deleted after "
                          "the number of days the batch's message named. Run the batch again to make them anew.")
    return {"statusCode": 302, "headers": {"location": presign(key, REDIRECT_SECONDS), "cache-control": "no-store"},
            "body": ""}


def presigned_url(s3: Any, bucket: str, key: str, seconds: int) -> str:
    """An S3 GET URL for ``key``, signed with this process's credentials for ``seconds``."""
    return str(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds))


def _page(status: int, text: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "text/plain; charset=utf-8"}, "body": text}

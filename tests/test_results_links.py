"""Results links: a token on the ingress URL that redirects to freshly presigned results while they are kept."""

from __future__ import annotations

from unittest import mock

from bot.catalogue.links import REDIRECT_SECONDS, results_redirect, share_results
from bot.runtime.sqlite_state import SqliteState
from tests.lambda_events import browser_get_event


def presign(key: str, seconds: int) -> str:
    return f"https://bucket.s3.amazonaws.com/{key}?X-Amz-Expires={seconds}"


def test_a_link_redirects_while_the_results_are_kept_then_says_it_expired() -> None:
    store = SqliteState(":memory:")
    link = share_results(store, "https://abc.lambda-url.us-east-1.on.aws/", "batches/b1/shoot-results.zip", days=2)
    path = link.removeprefix("https://abc.lambda-url.us-east-1.on.aws")
    assert path.startswith("/results/") and len(path) > 30, "unguessable"

    answer = results_redirect(browser_get_event(path), store, presign)
    assert answer["statusCode"] == 302
    assert answer["headers"]["location"] == presign("batches/b1/shoot-results.zip", REDIRECT_SECONDS)

    with mock.patch("time.time", return_value=__import__("time").time() + 3 * 86400):
        expired = results_redirect(browser_get_event(path), store, presign)
    assert expired["statusCode"] == 404 and "expired" in expired["body"]


def test_only_a_browser_get_of_a_well_formed_token_is_looked_up() -> None:
    store = mock.Mock(wraps=SqliteState(":memory:"))
    post = browser_get_event("/results/abc")
    post["requestContext"]["http"]["method"] = "POST"
    assert results_redirect(post, store, presign)["statusCode"] == 405
    assert results_redirect(browser_get_event("/results/../../etc"), store, presign)["statusCode"] == 404
    store.get.assert_not_called()

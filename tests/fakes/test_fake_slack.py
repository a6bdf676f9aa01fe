"""Tests for the fake Slack Web API, driven through the real slack_sdk client."""

from __future__ import annotations

import io
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from PIL import Image
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.fakes.slack import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    TEAM_ID,
    FakeSlack,
    event_body,
    interaction_body,
    signed_headers,
    slash_command_body,
)


def _jpeg(width: int = 40, height: int = 30, color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "JPEG")
    return buf.getvalue()


def _png(width: int = 8, height: int = 8) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 0, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


def _get(url: str, token: str | None = None) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        f.add_channel("C1", "general")
        yield f


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=fake.api_url)


# ---------------------------------------------------------------- auth


def test_auth_test_identity_and_scope_header(fake: FakeSlack, client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["user_id"] == BOT_USER_ID
    assert resp["bot_id"] == BOT_ID
    assert resp["team_id"] == TEAM_ID
    assert resp["url"].startswith("https://")
    # Bolt reads this exact lower-case header to learn the bot's scopes.
    assert "chat:write" in resp.headers["x-oauth-scopes"].split(",")


def test_bad_and_missing_tokens(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        WebClient(token="xoxb-wrong", base_url=fake.api_url).auth_test()
    assert err.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=fake.api_url).chat_postMessage(channel="C1", text="hi")
    assert err.value.response["error"] == "not_authed"


def test_token_in_json_body_is_not_accepted(fake: FakeSlack) -> None:
    body = json.dumps({"token": BOT_TOKEN, "channel": "C1", "text": "hi"}).encode()
    req = urllib.request.Request(
        fake.api_url + "chat.postMessage", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.loads(resp.read())["error"] == "not_authed"
    # ...but a form field token works, as on Slack
    form = urllib.parse.urlencode({"token": BOT_TOKEN, "channel": "C1", "text": "hi"}).encode()
    with urllib.request.urlopen(fake.api_url + "chat.postMessage", data=form, timeout=5) as resp:
        assert json.loads(resp.read())["ok"] is True


def test_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.api_call("files.upload", params={"channels": "C1"})
    assert err.value.response["error"] == "unknown_method"


def test_missing_scope(fake: FakeSlack) -> None:
    fake.scopes = ["chat:write"]
    client = WebClient(token=BOT_TOKEN, base_url=fake.api_url)
    with pytest.raises(SlackApiError) as err:
        client.conversations_history(channel="C1")
    assert err.value.response["error"] == "missing_scope"
    assert err.value.response["needed"] == "channels:history"


# ---------------------------------------------------------------- chat


def test_post_update_and_ephemeral(fake: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*working…*"}}]
    posted = client.chat_postMessage(channel="C1", text="working", blocks=blocks, unfurl_links=False)
    assert posted["channel"] == "C1"
    ts = posted["ts"]
    assert posted["message"]["bot_id"] == BOT_ID
    assert posted["message"]["user"] == BOT_USER_ID

    reply = client.chat_postMessage(channel="C1", text="in thread", thread_ts=ts)
    assert float(reply["ts"]) > float(ts)

    updated = client.chat_update(channel="C1", ts=ts, text="done")
    assert updated["ts"] == ts and updated["text"] == "done"
    assert fake.updates == [{"channel": "C1", "ts": ts, "text": "done", "blocks": None}]

    top = fake.channel_messages("C1")
    assert [m["text"] for m in top] == ["done"]
    assert top[0]["blocks"] == blocks  # chat.update keeps blocks it was not given
    assert top[0]["reply_count"] == 1
    assert [m["text"] for m in fake.thread_messages("C1", ts)] == ["in thread"]
    assert len(fake.bot_messages("C1")) == 2

    eph = client.chat_postEphemeral(channel="C1", user="U1", text="only you", thread_ts=ts)
    assert eph["message_ts"]
    assert fake.ephemerals[-1]["user"] == "U1"
    assert fake.ephemerals[-1]["text"] == "only you"
    assert fake.ephemerals[-1]["thread_ts"] == ts
    assert fake.warnings == []


def test_chat_argument_validation(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err, pytest.warns(UserWarning):  # slack_sdk warns too
        client.chat_postMessage(channel="C1")
    assert err.value.response["error"] == "no_text"
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C404", text="x")
    assert err.value.response["error"] == "channel_not_found"
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x", blocks=too_long)
    assert err.value.response["error"] == "invalid_blocks"
    assert "3001" in err.value.response["response_metadata"]["messages"][0]
    user_ts = fake.post_user_message("C1", "U1", "mine")
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C1", ts=user_ts, text="hijack")
    assert err.value.response["error"] == "cant_update_message"
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C1", ts="1.000000", text="x")
    assert err.value.response["error"] == "message_not_found"


def test_ephemeral_to_non_member(fake: FakeSlack, client: WebClient) -> None:
    fake.add_channel("C2", "design", members=["U1"])
    client.chat_postEphemeral(channel="C2", user="U1", text="ok")
    with pytest.raises(SlackApiError) as err:
        client.chat_postEphemeral(channel="C2", user="U9", text="nope")
    assert err.value.response["error"] == "user_not_in_channel"


def test_delete_and_warning_for_reply_thread_ts(fake: FakeSlack, client: WebClient) -> None:
    parent = fake.post_user_message("C1", "U1", "parent")
    child = fake.post_user_message("C1", "U2", "child", thread_ts=parent)
    client.chat_postMessage(channel="C1", text="to the reply", thread_ts=child)
    assert fake.warnings and "use the parent's ts" in fake.warnings[0]
    # Lands in the parent's thread.
    assert [m["text"] for m in fake.thread_messages("C1", parent)] == ["child", "to the reply"]
    bot_ts = fake.bot_messages("C1")[0]["ts"]
    client.chat_delete(channel="C1", ts=bot_ts)
    assert [m["text"] for m in fake.thread_messages("C1", parent)] == ["child"]


# ---------------------------------------------------------------- files


def test_files_upload_v2_three_files_in_thread(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="/imagine sneaker")["ts"]
    images = [_png(16 * (i + 1), 16) for i in range(3)]
    resp = client.files_upload_v2(
        file_uploads=[
            {"content": data, "filename": f"result-{i}.png", "title": f"Result {i}", "alt_txt": f"sneaker {i}"}
            for i, data in enumerate(images)
        ],
        channel="C1",
        thread_ts=parent,
        initial_comment="Here you go",
    )
    assert len(resp["files"]) == 3

    replies = fake.thread_messages("C1", parent)
    assert len(replies) == 1, "all files arrive in one message"
    message = replies[0]
    assert message["text"] == "Here you go"
    assert message["bot_id"] == BOT_ID
    assert [f["title"] for f in message["files"]] == ["Result 0", "Result 1", "Result 2"]
    assert [f["alt_txt"] for f in message["files"]] == ["sneaker 0", "sneaker 1", "sneaker 2"]
    assert [(f["original_w"], f["original_h"]) for f in message["files"]] == [(16, 16), (32, 16), (48, 16)]
    assert all(f["mimetype"] == "image/png" and f["filetype"] == "png" for f in message["files"])

    assert [u["content"] for u in fake.uploads] == images
    assert {(u["channel"], u["thread_ts"], u["initial_comment"]) for u in fake.uploads} == {
        ("C1", parent, "Here you go")
    }
    # The uploaded bytes are downloadable like any Slack file.
    status, ctype, data = _get(message["files"][1]["url_private"], BOT_TOKEN)
    assert (status, ctype, data) == (200, "image/png", images[1])
    info = client.files_info(file=message["files"][0]["id"])
    assert info["file"]["shares"]["public"]["C1"][0]["thread_ts"] == parent
    assert fake.warnings == []


def test_upload_flow_validation(fake: FakeSlack, client: WebClient) -> None:
    got = client.files_getUploadURLExternal(filename="a.png", length=10)
    req = urllib.request.Request(got["upload_url"], data=b"short", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    assert err.value.code == 400
    with pytest.raises(SlackApiError) as api_err:
        client.files_completeUploadExternal(files=[{"id": got["file_id"], "title": "a"}], channel_id="C1")
    assert api_err.value.response["error"] == "file_not_found"
    # A PNG named .jpg is accepted but flagged.
    client.files_upload_v2(content=_png(), filename="wrong.jpg", channel="C1")
    assert any("image/png" in w for w in fake.warnings)


def test_url_private_needs_the_bot_token(fake: FakeSlack) -> None:
    jpeg = _jpeg(40, 30)
    f = fake.add_file(jpeg, name="photo.jpg", user="U1")
    assert f["url_private"].startswith(f"{fake.base_url}/files-pri/{TEAM_ID}-{f['id']}/")
    assert (f["original_w"], f["original_h"], f["filetype"], f["size"]) == (40, 30, "jpg", len(jpeg))

    assert _get(f["url_private"], BOT_TOKEN) == (200, "image/jpeg", jpeg)
    assert _get(f["url_private_download"], BOT_TOKEN)[2] == jpeg
    for token in (None, "xoxb-wrong"):
        status, ctype, body = _get(f["url_private"], token)
        assert status == 200
        assert ctype.startswith("text/html")
        assert body.lstrip().lower().startswith(b"<!doctype html")
    assert [d["authorized"] for d in fake.downloads] == [True, True, False, False]


def test_deleted_file(fake: FakeSlack, client: WebClient) -> None:
    f = fake.add_file(_jpeg(), name="photo.jpg")
    ts = fake.post_user_message("C1", "U1", "look", files=[f])
    assert client.files_info(file=f["id"])["file"]["id"] == f["id"]
    fake.delete_file(f["id"])
    with pytest.raises(SlackApiError) as err:
        client.files_info(file=f["id"])
    assert err.value.response["error"] == "file_not_found"
    assert _get(f["url_private"], BOT_TOKEN)[0] == 404
    history = client.conversations_history(channel="C1")["messages"]
    assert history[0]["ts"] == ts
    assert history[0]["files"] == [{"id": f["id"], "mode": "tombstone"}]


# ---------------------------------------------------------------- reading


def test_history_and_replies(fake: FakeSlack, client: WebClient) -> None:
    photo = fake.add_file(_jpeg(), name="car.jpg", user="U1")
    first = fake.post_user_message("C1", "U1", "first")
    with_photo = fake.post_user_message("C1", "U1", "here is the car", files=[photo])
    reply = fake.post_user_message("C1", "U2", "nice", thread_ts=with_photo)
    last = fake.post_user_message("C1", "U2", "last")

    history = client.conversations_history(channel="C1", limit=10)
    assert [m["ts"] for m in history["messages"]] == [last, with_photo, first]  # newest first, no replies
    assert history["has_more"] is False
    photo_msg = history["messages"][1]
    assert photo_msg["subtype"] == "file_share"
    assert photo_msg["files"][0]["id"] == photo["id"]
    assert photo_msg["reply_count"] == 1 and photo_msg["latest_reply"] == reply

    page1 = client.conversations_history(channel="C1", limit=2)
    assert page1["has_more"] is True
    cursor = page1["response_metadata"]["next_cursor"]
    page2 = client.conversations_history(channel="C1", limit=2, cursor=cursor)
    assert [m["ts"] for m in page1["messages"] + page2["messages"]] == [last, with_photo, first]

    window = client.conversations_history(channel="C1", oldest=first, latest=last)
    assert [m["ts"] for m in window["messages"]] == [with_photo]
    window = client.conversations_history(channel="C1", oldest=first, latest=last, inclusive=True)
    assert [m["ts"] for m in window["messages"]] == [last, with_photo, first]

    replies = client.conversations_replies(channel="C1", ts=with_photo)
    assert [m["ts"] for m in replies["messages"]] == [with_photo, reply]
    assert replies["messages"][1]["parent_user_id"] == "U1"
    with pytest.raises(SlackApiError) as err:
        client.conversations_replies(channel="C1", ts="1.000001")
    assert err.value.response["error"] == "thread_not_found"


def test_explicit_and_clock_based_ts(fake: FakeSlack) -> None:
    old = fake.post_user_message("C1", "U1", "old", ts="1600000000.000100")
    new = fake.post_user_message("C1", "U1", "new")
    assert abs(float(new) - time.time()) < 60
    assert [m["ts"] for m in fake.channel_messages("C1")] == [old, new]


def test_info_methods(fake: FakeSlack, client: WebClient) -> None:
    info = client.conversations_info(channel="C1")["channel"]
    assert info["id"] == "C1" and info["name"] == "general" and info["is_member"] is True
    user = client.users_info(user="U1")["user"]
    assert user["id"] == "U1" and user["is_bot"] is False
    assert client.users_info(user=BOT_USER_ID)["user"]["is_bot"] is True


def test_membership(fake: FakeSlack, client: WebClient) -> None:
    fake.add_channel("C2", "random", bot_member=False)
    fake.add_channel("G1", "secret", bot_member=False, is_private=True)
    fake.post_user_message("C2", "U1", "hello")
    # With chat:write.public a bot may post in public channels it has not joined...
    assert client.chat_postMessage(channel="C2", text="x")["ok"]
    fake.scopes = [scope for scope in fake.scopes if scope != "chat:write.public"]
    # ...without it (and for reading or sharing files, always) it must be a member.
    for call in (
        lambda: client.chat_postMessage(channel="C2", text="x"),
        lambda: client.conversations_history(channel="C2"),
        lambda: client.files_upload_v2(content=b"abc", filename="a.txt", channel="C2"),
    ):
        with pytest.raises(SlackApiError) as err:
            call()
        assert err.value.response["error"] == "not_in_channel"
    # Private channels the bot is not in do not exist for it.
    with pytest.raises(SlackApiError) as err:
        client.conversations_info(channel="G1")
    assert err.value.response["error"] == "channel_not_found"
    # conversations.info works without membership for public channels.
    assert client.conversations_info(channel="C2")["channel"]["is_member"] is False
    fake.set_bot_member("C2")
    assert client.conversations_history(channel="C2")["messages"][-1]["text"] == "hello"


def test_conversations_members_pages_and_needs_the_read_scope(fake: FakeSlack, client: WebClient) -> None:
    fake.add_channel("C2", "random", bot_member=True, members=[f"U{n}" for n in range(5)])
    first = client.conversations_members(channel="C2", limit=4)
    cursor = first["response_metadata"]["next_cursor"]
    assert len(first["members"]) == 4 and cursor
    rest = client.conversations_members(channel="C2", limit=4, cursor=cursor)
    assert rest["response_metadata"]["next_cursor"] == ""
    assert sorted(first["members"] + rest["members"]) == sorted([BOT_USER_ID, "U0", "U1", "U2", "U3", "U4"])
    fake.scopes = [scope for scope in fake.scopes if scope != "channels:read"]
    with pytest.raises(SlackApiError) as err:
        client.conversations_members(channel="C2")
    assert err.value.response["error"] == "missing_scope"


# ---------------------------------------------------------------- faults


def test_ratelimited_raises_429(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response["error"] == "ratelimited"
    assert err.value.response.headers["Retry-After"] == "7"
    assert fake.bot_messages() == []
    client.chat_postMessage(channel="C1", text="x")  # the next call succeeds
    assert len(fake.bot_messages()) == 1


def test_ratelimited_recovers_with_retry_handler(fake: FakeSlack) -> None:
    client = WebClient(
        token=BOT_TOKEN, base_url=fake.api_url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)]
    )
    fake.fail_next("chat.postMessage", n=2, retry_after=0)
    assert client.chat_postMessage(channel="C1", text="eventually")["ok"]
    assert [m for m, _ in fake.calls].count("chat.postMessage") == 3
    assert [m["text"] for m in fake.bot_messages("C1")] == ["eventually"]


def test_fail_next_other_error_and_reset(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("files.getUploadURLExternal", error="internal_error")
    with pytest.raises(SlackApiError) as err:
        client.files_upload_v2(content=b"abc", filename="a.txt", channel="C1")
    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "internal_error"
    fake.fail_next("upload", error="boom")
    # slack_sdk posts to the upload URL with plain urllib: non-2xx raises HTTPError.
    with pytest.raises(urllib.error.HTTPError):
        client.files_upload_v2(content=b"abc", filename="a.txt", channel="C1")
    fake.fail_next("chat.postMessage", n=3)
    fake.reset_faults()
    client.chat_postMessage(channel="C1", text="fine")


def test_server_errors_html_pages_and_dropped_connections(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", "service_unavailable", status=503, html=True)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 503
    assert "non-JSON" in err.value.response["error"], "slack_sdk cannot parse an HTML page"
    fake.fail_next("chat.postMessage", "internal_error", status=500)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x")
    assert (err.value.response.status_code, err.value.response["error"]) == (500, "internal_error")
    fake.fail_next("chat.postMessage", "disconnect", n=2)  # WebClient retries one by default
    with pytest.raises(ConnectionError):  # http.client.RemoteDisconnected
        client.chat_postMessage(channel="C1", text="x")
    fake.fail_next("download", "bad_gateway", status=502, html=True)
    photo = fake.add_file(b"\x89PNG\r\n\x1a\n" + b"0" * 10, name="a.png")
    request = urllib.request.Request(photo["url_private"], headers={"Authorization": f"Bearer {BOT_TOKEN}"})
    with pytest.raises(urllib.error.HTTPError) as http_error:
        urllib.request.urlopen(request, timeout=5)
    assert http_error.value.code == 502 and b"<html" in http_error.value.read()
    assert client.chat_postMessage(channel="C1", text="fine")["ok"] and fake.bot_messages("C1")


# ---------------------------------------------------------------- response_url & helpers


def test_response_url(fake: FakeSlack) -> None:
    url = fake.response_url("cmd1", channel="C1")
    webhook = WebhookClient(url)
    assert webhook.send(text="only you see this").status_code == 200
    assert webhook.send(text="everyone sees this", response_type="in_channel").status_code == 200
    assert [p["text"] for p in fake.responses["cmd1"]] == ["only you see this", "everyone sees this"]
    assert [m["text"] for m in fake.channel_messages("C1")] == ["everyone sees this"]
    for _ in range(3):
        webhook.send(text="progress")
    assert webhook.send(text="sixth").status_code == 404  # five uses only


def test_wait_for_reports_state(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="hello there")
    fake.wait_for(lambda: len(fake.bot_messages("C1")) == 1, timeout=1)
    with pytest.raises(AssertionError) as err:
        fake.wait_for(lambda: fake.bot_messages("C1")[5], timeout=0.1)
    assert "hello there" in str(err.value)
    assert "chat.postMessage" in str(err.value)


def test_signed_request_helpers() -> None:
    body = slash_command_body("/imagine", "a red car ar=16:9", response_url="http://x/response/r1")
    headers = signed_headers(body)
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("other-secret").is_valid_request(body, headers)
    form = dict(urllib.parse.parse_qsl(body))
    assert form["command"] == "/imagine" and form["text"] == "a red car ar=16:9"
    assert form["team_id"] == TEAM_ID and re.fullmatch(r"\d+\.\d+\.[0-9a-f]+", form["trigger_id"])
    assert dict(urllib.parse.parse_qsl(slash_command_body("/imagine", "x")))["trigger_id"] != form["trigger_id"]

    envelope = json.loads(event_body({"type": "app_mention", "user": "U1", "text": "hi", "ts": "1.000001"}))
    assert envelope["type"] == "event_callback"
    assert envelope["event"]["event_ts"] == "1.000001"
    assert envelope["authorizations"][0]["user_id"] == BOT_USER_ID

    payload = {"type": "block_actions", "actions": [{"action_id": "reroll"}]}
    assert json.loads(dict(urllib.parse.parse_qsl(interaction_body(payload)))["payload"]) == payload


def test_bolt_app_against_the_fake(fake: FakeSlack) -> None:
    """The helpers produce requests a real Bolt app accepts and routes."""
    from slack_bolt import App
    from slack_bolt.request import BoltRequest

    app = App(
        token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        client=WebClient(token=BOT_TOKEN, base_url=fake.api_url),
        process_before_response=True,
    )

    @app.command("/imagine")
    def imagine(ack, respond, say, command) -> None:  # type: ignore[no-untyped-def]
        ack()
        respond(f"working on {command['text']}")
        say(
            text="parent",
            blocks=[
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "reroll", "text": {"type": "plain_text", "text": "Re-roll"}}
                    ],
                }
            ],
        )

    @app.event("app_mention")
    def mention(event, say) -> None:  # type: ignore[no-untyped-def]
        say(text=f"got {len(event.get('files', []))} files", thread_ts=event["ts"])

    @app.action("reroll")
    def reroll(ack, body, client) -> None:  # type: ignore[no-untyped-def]
        ack()
        client.chat_postMessage(channel=body["channel"]["id"], thread_ts=body["message"]["ts"], text="again")

    body = slash_command_body("/imagine", "a red car", response_url=fake.response_url("r1", channel="C1"))
    resp = app.dispatch(BoltRequest(body=body, headers=signed_headers(body)))
    assert resp.status == 200
    assert fake.responses["r1"][0]["text"] == "working on a red car"
    parent = fake.bot_messages("C1")[0]["ts"]

    photo = fake.add_file(_jpeg(), name="car.jpg")
    ts = fake.post_user_message("C1", "U1", f"<@{BOT_USER_ID}> describe", files=[photo])
    body = event_body(fake.message_event("C1", ts, event_type="app_mention"))
    assert (
        app.dispatch(BoltRequest(body=body, headers=signed_headers(body, content_type="application/json"))).status
        == 200
    )
    assert [m["text"] for m in fake.thread_messages("C1", ts)] == ["got 1 files"]

    body = interaction_body(fake.block_actions_payload("C1", parent, "reroll"))
    assert app.dispatch(BoltRequest(body=body, headers=signed_headers(body))).status == 200
    assert [m["text"] for m in fake.thread_messages("C1", parent)] == ["again"]

    bad = signed_headers(body, secret="wrong")
    assert app.dispatch(BoltRequest(body=body, headers=bad)).status == 401


def test_reset_keeps_server_and_forgets_state(fake: FakeSlack, client: WebClient) -> None:
    fake.scopes = ["chat:write"]
    client.chat_postMessage(channel="C1", text="before")
    fake.fail_next("auth.test")
    fake.reset()
    assert fake.calls == [] and fake.bot_messages() == []
    assert client.auth_test()["ok"]  # same URL still served, faults and scopes reset
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="after")
    assert err.value.response["error"] == "channel_not_found"


# ------------------------------------------------------- image blocks showing Slack files


def _image_block(ref: dict[str, str]) -> list[dict[str, object]]:
    return [{"type": "image", "slack_file": ref, "alt_text": "a photo"}]


def _refusal(client: WebClient, blocks: list[dict[str, object]]) -> list[str]:
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="t", blocks=blocks)
    assert err.value.response["error"] == "invalid_blocks"
    return list(err.value.response["errors"])


def test_an_image_block_shows_a_file_the_bot_uploaded(fake: FakeSlack, client: WebClient) -> None:
    uploaded = client.files_upload_v2(content=_png(), filename="a.png", channel="C1")["files"][0]
    client.chat_postMessage(channel="C1", text="t", blocks=_image_block({"id": uploaded["id"]}))
    client.chat_postMessage(channel="C1", text="t", blocks=_image_block({"url": uploaded["url_private"]}))


def test_image_blocks_with_files_slack_cannot_show_are_refused(fake: FakeSlack, client: WebClient) -> None:
    pdf = client.files_upload_v2(content=b"%PDF-1.4 x", filename="a.pdf", channel="C1")["files"][0]
    elsewhere = fake.add_file(_jpeg(), name="p.jpg", user="U9")  # never shared where the bot is
    gone = client.files_upload_v2(content=_png(), filename="g.png", channel="C1")["files"][0]
    fake.delete_file(gone["id"])
    for ref in ({"id": "F999999999"}, {"id": pdf["id"]}, {"id": elsewhere["id"]}, {"id": gone["id"]}):
        assert _refusal(client, _image_block(ref)) == ["[ERROR] invalid slack file [json-pointer:/blocks/0/slack_file]"]
    assert "regex pattern" in _refusal(client, _image_block({"id": "f123"}))[0]
    both = {"id": "F999999999", "url": "https://files.slack.com/x.png"}
    assert _refusal(client, _image_block(both)) == ["[ERROR] invalid slack file [json-pointer:/blocks/0/slack_file]"]


def test_a_file_is_shown_only_once_slack_has_processed_it(fake: FakeSlack, client: WebClient) -> None:
    now = [1_800_000_000.0]
    fake.clock = lambda: now[0]
    fake.file_processing_seconds = 2.0
    uploaded = client.files_upload_v2(content=_png(), filename="a.png", channel="C1")["files"][0]
    assert "invalid slack file" in _refusal(client, _image_block({"id": uploaded["id"]}))[0]
    now[0] += 2.5
    client.chat_postMessage(channel="C1", text="t", blocks=_image_block({"id": uploaded["id"]}))

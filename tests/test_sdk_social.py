"""The SDK's social calls against a live server, each checked from the other side: contacts,
privacy and blocks, presence, @handles and public chats, invite links, rights and pins,
reactions, mentions and views, and their typed events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from darbuka.cli import app as cli
from darbuka.client import ApiError, Client, EventStream
from darbuka.client.http import HttpApi
from tests.conftest import LiveServer, make_server
from tests.helpers import Api
from tests.test_sdk import next_event


class Clients:
    """SDK clients for signed-up users, made on first use (`sdk(alice)`), closed at the end."""

    def __init__(self, server: LiveServer) -> None:
        self._server = server
        self._made: dict[int, Client] = {}

    def __call__(self, user: Api) -> Client:
        if user.id not in self._made:
            self._made[user.id] = Client(self._server.url, user.token)
        return self._made[user.id]

    async def close(self) -> None:
        for client in self._made.values():
            await client.close()


@pytest.fixture
async def sdk(server: LiveServer) -> AsyncIterator[Clients]:
    clients = Clients(server)
    yield clients
    await clients.close()


async def online(client: Client) -> EventStream:
    """Start the client and wait for its socket, so live events reach `events()`."""
    events = client.events()
    await client.start()
    await next_event(events, "reset")
    return events


async def test_import_finds_users_and_respects_find_by_phone(server: LiveServer,
                                                            sdk: Clients) -> None:
    alice = server.sign_up("Alice", phone="+447700900201")
    bob = server.sign_up("Bob", phone="+447700900202")
    found = await sdk(alice).import_contacts(
        ["07700 900202", "+44 7700 900-202", "not a number", "+447700900299"])
    assert [(m.user.id, m.phone) for m in found.users] == [(bob.id, "+447700900202")]
    assert found.users[0].user.display_name == "Bob"
    assert (found.malformed, found.duplicates, found.limited) == (1, 1, 0)
    # Bob hides from number lookups: his other device hears the change, alice finds nobody.
    bob_events = await online(sdk(bob))
    bob_phone = HttpApi(server.url, bob.token)  # another device of his
    try:
        privacy = await bob_phone.set_privacy(find_by_phone="nobody")
    finally:
        await bob_phone.aclose()
    assert (privacy.find_by_phone, privacy.last_seen) == ("nobody", "everyone")
    changed = await next_event(bob_events, "privacy.updated")
    assert changed.privacy == {"find_by_phone": "nobody"}
    assert (await sdk(bob).privacy()).find_by_phone == "nobody"
    again = await sdk(alice).import_contacts(["+447700900202"])
    assert again.users == []


async def test_contact_joined_is_a_typed_event(server: LiveServer,
                                               sdk: Clients) -> None:
    alice = server.sign_up("Alice", phone="+447700900211")
    client = sdk(alice)
    await client.import_contacts(["+447700900212"])
    events = await online(client)
    carol = await asyncio.to_thread(server.sign_up, "Carol", "+447700900212")
    joined = await next_event(events, "contact.joined")
    assert joined.contact is not None
    assert (joined.contact.user.id, joined.contact.phone) == (carol.id, "+447700900212")
    assert joined.mention is None
    assert joined.reaction is None


@pytest.fixture
def small_quota(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    srv = make_server(database_url, tmp_path, contacts_new_per_day=5, contacts_max_total=50)
    yield srv
    srv.thread.stop()


async def test_import_over_the_quota_counts_then_raises_with_retry_after(
        small_quota: LiveServer) -> None:
    user = small_quota.sign_up(phone="+447700900221")
    async with Client(small_quota.url, user.token) as client:
        first = await client.import_contacts([f"+1415555{n:04d}" for n in range(8)])
        assert first.limited == 3
        with pytest.raises(ApiError) as refused:
            await client.import_contacts(["+14155559999"])
        assert refused.value.status == 429
        assert refused.value.retry_after is not None
        assert refused.value.retry_after > 0
        assert not refused.value.retry_after > 24 * 3600
        # Numbers already uploaded are checked again freely.
        assert (await client.import_contacts(["+14155550000"])).limited == 0


async def test_block_unblock_and_presence(server: LiveServer, sdk: Clients) -> None:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    a, b = sdk(alice), sdk(bob)
    chat = await a.direct(bob.id)
    a_events = await online(a)
    await online(b)
    assert (await a.presence(bob.id)).status == "online"
    await a.block(bob.id)
    assert (await next_event(a_events, "user.blocked")).blocked_user_id == bob.id
    assert [x.user.id for x in await a.blocked()] == [bob.id]
    with pytest.raises(ApiError) as refused:
        await b.send_now(chat.id, "let me in")
    assert (refused.value.status, refused.value.code) == (403, "cannot_message")
    assert (await b.presence(alice.id)).status == "hidden"
    await a.unblock(bob.id)
    assert (await next_event(a_events, "user.unblocked")).blocked_user_id == bob.id
    assert await a.blocked() == []
    sent = await b.send_now(chat.id, "thanks")
    assert [m.text for m in await a.history(chat.id)][-1] == "thanks"
    assert sent.sender_id == bob.id
    # Presence follows last_seen: hidden from everyone when bob says nobody.
    await b.set_privacy(last_seen="nobody")
    assert (await a.presence(bob.id)).status == "hidden"
    assert (await b.presence(bob.id)).status == "online"  # never hidden from oneself


async def test_handles_public_search_preview_and_join(server: LiveServer,
                                                      sdk: Clients) -> None:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    a, b = sdk(alice), sdk(bob)
    me = await a.set_profile(username="Alice_SDK", about="writes things")
    assert me.username == "Alice_SDK"
    assert (await b.user(alice.id)).username == "Alice_SDK"
    with pytest.raises(ApiError) as taken:
        await b.set_profile(username="alice_sdk")
    assert (taken.value.status, taken.value.code) == (409, "username_taken")
    channel = await a.create_group("SDK News", kind="channel")
    named = await a.set_chat_handle(channel.id, "sdk_news")
    assert named.raw["handle"] == "sdk_news"
    assert named.raw["public"] is True
    await a.send_now(channel.id, "first post")
    assert [c.id for c in await b.search_public("news")] == [channel.id]  # by title
    found = await b.search_public("sdk_ne")
    assert [(c.id, c.handle, c.kind) for c in found] == [(channel.id, "sdk_news", "channel")]
    anonymous = HttpApi(server.url)  # the preview needs no sign-in
    try:
        preview = await anonymous.public_chat("@SDK_News")
    finally:
        await anonymous.aclose()
    assert (preview.chat.title, preview.chat.member_count) == ("SDK News", 1)
    assert [(p.text, p.sender_id) for p in preview.posts] == [("first post", None)]
    # Signed posts carry the admin's id.
    assert (await a.set_sign_posts(channel.id, True)).raw["sign_posts"] is True
    await a.send_now(channel.id, "signed post")
    assert (await b.public_chat("sdk_news")).posts[-1].sender_id == alice.id
    joined = await b.join(channel.id)
    assert (joined.id, joined.role) == (channel.id, "subscriber")
    assert (await b.public_chat("sdk_news")).chat.member_count == 2
    assert [c.id for c in await b.chats()] == [channel.id]
    await a.clear_chat_handle(channel.id)
    with pytest.raises(ApiError) as gone:
        await b.public_chat("sdk_news")
    assert gone.value.status == 404
    assert await b.search_public("sdk_ne") == []


async def test_user_by_username_finds_exact_names_only(server: LiveServer,
                                                       sdk: Clients) -> None:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    a, b = sdk(alice), sdk(bob)
    await b.set_profile(username="Bob_SDK")
    found = await a.user_by_username("@bob_sdk")
    assert (found.id, found.username, found.display_name) == (bob.id, "Bob_SDK", "Bob")
    for name, status, code in (("bob_sd", 404, "user_not_found"),
                               ("no such", 400, "invalid_username")):
        with pytest.raises(ApiError) as refused:
            await a.user_by_username(name)
        assert (refused.value.status, refused.value.code) == (status, code)
    await b.block(alice.id)
    with pytest.raises(ApiError) as hidden:
        await a.user_by_username("bob_sdk")
    assert (hidden.value.status, hidden.value.code) == (404, "user_not_found")


async def test_an_invite_with_one_use_admits_one_user(server: LiveServer,
                                                     sdk: Clients) -> None:
    alice, bob, carol = (server.sign_up(n) for n in ("Alice", "Bob", "Carol"))
    a, b, c = (sdk(u) for u in (alice, bob, carol))
    group = await a.create_group("Invited")
    invite = await a.create_invite(group.id, max_uses=1, expires_in_s=3600)
    assert invite.token is not None
    assert (invite.max_uses, invite.uses) == (1, 0)
    assert invite.expires_at is not None
    assert invite.expires_at > invite.created_at
    preview = await b.invite_preview(invite.token)
    assert (preview.id, preview.title) == (group.id, "Invited")
    joined = await b.join_by_invite(invite.token)
    assert (joined.id, joined.role) == (group.id, "member")
    with pytest.raises(ApiError) as used_up:
        await c.join_by_invite(invite.token)
    assert (used_up.value.status, used_up.value.code) == (404, "invite_not_found")
    (listed,) = await a.invites(group.id)
    assert (listed.id, listed.uses, listed.token) == (invite.id, 1, None)
    # A revoked link stops at once; only admins list links.
    other = await a.create_invite(group.id)
    assert other.token is not None
    await a.revoke_invite(group.id, other.id)
    with pytest.raises(ApiError) as revoked:
        await c.invite_preview(other.token)
    assert revoked.value.status == 404
    assert {i.id: i.revoked for i in await a.invites(group.id)} == {invite.id: False,
                                                                   other.id: True}
    with pytest.raises(ApiError) as not_admin:
        await b.invites(group.id)
    assert not_admin.value.status == 403
    assert [m.id for m in await c.chats()] == []


async def test_rights_without_pin_forbid_pinning(server: LiveServer,
                                                 sdk: Clients) -> None:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    a, b = sdk(alice), sdk(bob)
    channel = await a.create_group("Pins", [bob.id], kind="channel")
    post = await a.send_now(channel.id, "pin me")
    await a.set_role(channel.id, bob.id, "admin")
    assert await a.set_rights(channel.id, bob.id, ["write", "change_info"]) == [
        "change_info", "write"]
    with pytest.raises(ApiError) as refused:
        await b.pin(channel.id, post.id)
    assert (refused.value.status, refused.value.code) == (403, "missing_right")
    assert "pinned_message_id" not in (await a.chat(channel.id)).raw
    await a.set_rights(channel.id, bob.id, ["write", "pin"])
    pinned = await b.pin(channel.id, post.id)
    assert pinned.raw["pinned_message_id"] == post.id
    assert (await a.chat(channel.id)).raw["pinned_message_id"] == post.id
    assert "pinned_message_id" not in (await b.unpin(channel.id)).raw
    # Only the owner and admins with add_admins set rights.
    with pytest.raises(ApiError) as no_add_admins:
        await b.set_rights(channel.id, bob.id, RIGHTS_ALL)
    assert no_add_admins.value.status == 403


RIGHTS_ALL = ["read_all", "add_members", "remove_members", "add_admins", "change_info", "pin",
              "write"]


async def test_reactions_reach_the_other_side_as_typed_events(server: LiveServer,
                                                              sdk: Clients) -> None:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    a, b = sdk(alice), sdk(bob)
    group = await a.create_group("Reacts", [bob.id])
    message = await b.send_now(group.id, "react to me")
    b_events = await online(b)
    assert [(r.emoji, r.count, r.mine) for r in await a.react(group.id, message.id, "👍")] == [
        ("👍", 1, True)]
    added = await next_event(b_events, "reaction.added")
    assert added.reaction is not None
    assert (added.reaction.user_id, added.reaction.message_id, added.reaction.emoji,
            added.reaction.added) == (alice.id, message.id, "👍", True)
    seen = (await b.reactions(group.id, [message.id]))[message.id]
    assert [(r.emoji, r.count, r.mine) for r in seen.reactions] == [("👍", 1, False)]
    with pytest.raises(ApiError) as letters:
        await a.react(group.id, message.id, "ok")
    assert (letters.value.status, letters.value.code) == (400, "invalid_emoji")
    assert await a.unreact(group.id, message.id, "👍") == []
    removed = await next_event(b_events, "reaction.removed")
    assert removed.reaction is not None
    assert removed.reaction.added is False
    assert (await b.reactions(group.id, [message.id]))[message.id].reactions == []


async def test_channel_reactions_reach_subscribers_as_counts(server: LiveServer,
                                                             sdk: Clients) -> None:
    alice, bob, carol = (server.sign_up(n) for n in ("Alice", "Bob", "Carol"))
    a, b, c = sdk(alice), sdk(bob), sdk(carol)
    channel = await a.create_group("Counted", [bob.id, carol.id], kind="channel")
    post = await a.send_now(channel.id, "react to me")
    a_events, b_events = await online(a), await online(b)
    await c.react(channel.id, post.id, "👍")
    # The owner hears who; a subscriber only the counts.
    who = (await next_event(a_events, "reaction.added")).reaction
    assert who is not None
    assert (who.user_id, who.emoji) == (carol.id, "👍")
    tally = (await next_event(b_events, "reaction.counts")).reaction_tally
    assert tally is not None
    assert (tally.chat_id, tally.message_id) == (channel.id, post.id)
    assert [(r.emoji, r.count, r.mine) for r in tally.reactions] == [("👍", 1, False)]


async def test_delivered_marks_reach_the_sender(server: LiveServer, sdk: Clients) -> None:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    a, b = sdk(alice), sdk(bob)
    chat = await a.direct(bob.id)
    first = await a.send_now(chat.id, "one")
    second = await a.send_now(chat.id, "two")
    a_events = await online(a)
    assert await b.mark_delivered(chat.id, second.seq) == second.seq
    mark = await next_event(a_events, "chat.delivered")
    assert (mark.data["user_id"], mark.data["seq"]) == (bob.id, second.seq)
    assert await b.mark_delivered(chat.id, first.seq) == second.seq  # never backwards
    with pytest.raises(ApiError) as bad:
        await b.mark_delivered(chat.id, -1)
    assert (bad.value.status, bad.value.code) == (400, "invalid_seq")


async def test_mentions_and_views(server: LiveServer, sdk: Clients) -> None:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    a, b = sdk(alice), sdk(bob)
    await b.set_profile(username="bob_reader")
    group = await a.create_group("Mentions", [bob.id])
    b_events = await online(b)
    said = await a.send_now(group.id, "hello @Bob_Reader")
    mention = (await next_event(b_events, "mention")).mention
    assert mention is not None
    assert (mention.chat_id, mention.message_id, mention.seq, mention.by) == (
        group.id, said.id, said.seq, alice.id)
    channel = await a.create_group("Viewed", [bob.id], kind="channel")
    posts = [await a.send_now(channel.id, f"post {n}") for n in range(3)]
    ids = [p.id for p in posts]
    first = await b.report_views(channel.id, ids[:2])
    assert (first.counted, first.views) == (ids[:2], {ids[0]: 1, ids[1]: 1})
    again = await b.report_views(channel.id, ids)
    assert (again.counted, again.views) == ([ids[2]], dict.fromkeys(ids, 1))
    counts = await a.reactions(channel.id, ids)
    assert {i: counts[i].views for i in ids} == dict.fromkeys(ids, 1)
    with pytest.raises(ApiError) as not_channel:
        await b.report_views(group.id, [said.id])
    assert (not_channel.value.status, not_channel.value.code) == (400, "not_a_channel")


def test_contacts_import_from_the_shell(server: LiveServer, tmp_path: Path) -> None:
    alice = server.sign_up("Alice", phone="+447700900231")
    bob = server.sign_up("Bob", phone="+447700900232")
    book = tmp_path / "book.txt"
    book.write_text("07700 900232\n\n+44 7700 900232\nnot a number\n+447700900239\n")
    result = CliRunner().invoke(cli, ["contacts", "import", str(book), "--server", server.url,
                                      "--token", alice.token or ""])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    match = orjson.loads(line)
    assert (match["phone"], match["user"]["id"]) == ("+447700900232", bob.id)
    assert "found 1, malformed 1, duplicates 1, held back 0" in result.stderr
    denied = CliRunner().invoke(cli, ["contacts", "import", str(book), "--server", server.url,
                                      "--token", "not-a-token"])
    assert denied.exit_code == 1
    assert "refused: 401" in denied.stderr

"""The catalogue of the event stream: every stored event type and every socket frame, with
what each carries. `docs/api.md` is generated from it, and a test checks the two agree.

The records themselves (`Event`, cursors) live in `darbuka/stream.py`; how each viewer sees
an event is decided by `services/access.py`.
"""

from __future__ import annotations

__all__ = ["EVENT_TYPES", "SOCKET_FRAMES"]

# Every stored event type, with what it carries. docs/api.md lists each (a test checks).
EVENT_TYPES: dict[str, str] = {
    "message.new": "a message was sent (also system messages): `message`",
    "message.edited": "a message's text changed: the whole `message`",
    "message.deleted": "a message was deleted for everyone: `message` with `deleted: true` "
                       "(and `removed: true` when moderators removed it)",
    "chat.created": "a chat you are in was created: `chat`",
    "chat.updated": "title or description changed: `chat`",
    "chat.read": "someone read up to `seq` in `chat_id` (`user_id`); read implies delivered",
    "chat.delivered": "`user_id`'s devices received `chat_id` up to `seq` (not in channels, "
                      "nor across a block in a direct chat)",
    "member.joined": "`user_id` joined `chat_id` with `role` (`by` who); carries `chat`. In "
                     "a channel only the member and the channel's owner and admins get it",
    "member.left": "`user_id` left or was removed from `chat_id` (`by` who); in a channel "
                   "only the member and the owner and admins",
    "member.updated": "`user_id`'s `role` in `chat_id` changed (and for admins `rights`); "
                      "in a channel only the member and the owner and admins",
    "join_request.new": "admins: `user_id` asks to join `chat_id` (a chat with "
                        "`join_approval`); `created_at`",
    "join_request.decided": "`user_id`'s request to join `chat_id` was decided: `approved` "
                            "(`by` who); to the chat's admins and the person who asked",
    "user.updated": "your own profile changed (on another device), or the profile photo "
                    "of someone in one of your direct chats or groups (then with "
                    "`chat_id`): `user`",
    "message.restored": "a removed message was reinstated (after an appeal or a withdrawn "
                        "order): the whole `message`; apply it like `message.edited`",
    "account.restricted": "your account was suspended (`until`) or banned: `status`, "
                          "`statement_id`; the socket then closes with 4403",
    "device.revoked": "one of your devices was signed out: `device_id`, `reason` (`revoked`, "
                      "`expired`, `banned`, or for a bot's token `rotated`); that device's "
                      "socket closes with 4401 and its long polls answer 401",
    "moderation.statement": "a statement of reasons for a decision about your content or "
                            "account: `statement` (DSA Transparency Database fields)",
    "report.resolved": "a report you made was decided: `report` with its `outcome`",
    "appeal.decided": "your appeal was decided: `appeal` (`upheld` or `reversed`)",
    "moderation.alert": "staff only: a removal order's one-hour clock is running low: `alert`",
    # social
    "contact.joined": "someone whose number you uploaded joined: `user`, `phone`",
    "privacy.updated": "your privacy settings changed: the changed keys in `privacy`",
    "user.blocked": "you blocked `user_id` (only your devices hear it)",
    "user.unblocked": "you unblocked `user_id`",
    "mute.updated": "you muted or unmuted `chat_id` (on any device): `mute` {`until` (ms; "
                    "null: until turned off), `mentions` (your @mentions still notify)}, or "
                    "null when unmuted. A mute ends by itself at `until`: nothing is sent then",
    "draft.updated": "your draft in `chat_id` changed on one of your devices, or was cleared "
                     "by your send there: `draft` {`text`, `updated_at`} or null. The latest "
                     "`updated_at` wins",
    "mention": "you were @mentioned: `chat_id`, `message_id`, `seq`, `by`",
    "reaction.added": "`user_id` reacted with `emoji` to `message_id` in `chat_id`; in a "
                      "channel only the reacting user's devices and the owner and admins "
                      "get it",
    "reaction.removed": "`user_id` took back `emoji` on `message_id` in `chat_id` (in a "
                        "channel as `reaction.added`)",
    "poll.results": "the poll `message_id` in `chat_id` has new `counts` (one per option) and "
                    "`voters`, or `closed` (then a quiz's `correct_option` and `explanation` "
                    "too); nobody named",
    "poll.vote": "`user_id` chose `options` (none: took the vote back) in the poll "
                 "`message_id` of `chat_id`: to the chat in a public poll, else to the "
                 "voter's own devices",
    "reaction.counts": "channels: `message_id`'s `reactions` in `chat_id` changed, as "
                       "[{`emoji`, `count`}], most first — who reacted is left out; set them "
                       "(keep your own `mine`)",
    "bot.callback": "(bots) a user pressed a callback button: `callback_id`, `payload`, "
                    "`user_id`, `chat_id`, `message`",
    "bot.answer": "a bot answered your button press: `callback_id`, `chat_id`, "
                  "`message_id`, `notification`",
}

# Socket frames that are not stored events.
SOCKET_FRAMES: dict[str, str] = {
    "ready": "replay finished; live events follow (`cursor`)",
    "reset": "too far behind: fresh `chats` and a new `cursor`",
    "ack": "your `send` (`id`) is stored: `message`, `cursor` (or `repeat: true`)",
    "error": "a frame failed: `error` {code, message}, `id` of the frame",
    "typing": "`user_id` is typing in `chat_id` (never stored)",
    "pong": "answer to `ping`",
}

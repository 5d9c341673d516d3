"""`darbuka chat`: a terminal client on the SDK (Textual).

Sends go through the outbox, so a message typed while offline shows a pending mark (⏳)
and is delivered once the link is back; ✗ marks a send the server refused. Text is shown
as plain text, never interpreted as console markup; a message's markup ranges style it
(bold, italic, strike, underline, code, links). `/file PATH` in the composer sends a file
(photo, voice, video by its name, else a file), with the upload's progress on its line.
`/mute [1h|8h|30m] [mentions]` mutes the open chat (no time: until `/unmute`); muted chats
are marked 🔕 in the list. What is left typed in a chat is kept as its draft, for the
person's other devices, when another chat is opened, and comes back when it is opened.
A poll shows its options with counts and bars, kept current live; `/vote 2` votes in the
chat's newest poll (`/vote 1,3` several options, `/vote` alone takes the vote back).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path
from typing import ClassVar

import httpx
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, ListItem, ListView, Static

from darbuka.client.client import Client
from darbuka.client.http import ApiError
from darbuka.client.models import Chat, Event, Message
from darbuka.client.polls import poll_lines
from darbuka.client.uploads import file_size, guess_kind

__all__ = ["ChatApp", "SignIn", "parse_mute"]

FILE_COMMAND = "/file "
MUTE_COMMAND, UNMUTE_COMMAND = "/mute", "/unmute"
_DURATION = re.compile(r"(\d+)([mhd])")
_UNIT_S = {"m": 60, "h": 3600, "d": 86400}
SEARCH_COMMAND = "/search "
# `/vote 2` (or `/vote 1,3` in a multiple-choice poll) votes in the chat's newest poll;
# `/vote` alone takes the vote back.
VOTE_COMMAND = "/vote"
STATE_MARKS = {"online": "● online", "connecting": "◌ connecting…", "offline": "○ offline",
               "signed_out": "✗ signed out"}


def parse_mute(args: str) -> tuple[int | None, bool]:
    """`/mute`'s arguments as (seconds or None for until turned off, mentions let through):
    `8h`, `30m mentions`, `mentions`, or nothing."""
    for_s: int | None = None
    mentions = False
    for word in args.lower().split():
        if word == "mentions":
            mentions = True
        elif (found := _DURATION.fullmatch(word)) and for_s is None:
            for_s = int(found[1]) * _UNIT_S[found[2]]
        else:
            raise ValueError(f"not a mute choice: {word} (try /mute 1h, /mute 8h mentions)")
    return for_s, mentions


class SignIn(ModalScreen[bool]):
    """Phone number, then the code the server sent."""

    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client = client
        self.phone = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="signin"):
            yield Label("Sign in to " + self.client.server)
            yield Input(placeholder="Phone number, +44…", id="phone")
            yield Input(placeholder="The 6-digit code", id="code", disabled=True)
            yield Label("", id="signin-error")

    @on(Input.Submitted, "#phone")
    async def ask_code(self, event: Input.Submitted) -> None:
        try:
            await self.client.request_code(event.value.strip())
        except ApiError as err:
            self.query_one("#signin-error", Label).update(err.message)
            return
        self.phone = event.value.strip()
        code = self.query_one("#code", Input)
        code.disabled = False
        code.focus()

    @on(Input.Submitted, "#code")
    async def check_code(self, event: Input.Submitted) -> None:
        try:
            await self.client.sign_in(self.phone, event.value.strip(), device_name="terminal")
        except ApiError as err:
            self.query_one("#signin-error", Label).update(err.message)
            return
        self.dismiss(True)


class ChatItem(ListItem):
    def __init__(self, chat: Chat) -> None:
        super().__init__(Static(Text(_chat_title(chat))))
        self.chat_id = chat.id


# How each markup type looks in a terminal (a link also gets its URL as a hyperlink).
MARKUP_STYLES = {"strong": "bold", "emphasized": "italic", "strikethrough": "strike",
                 "underline": "underline", "monospaced": "cyan", "code_block": "cyan",
                 "link": "underline blue", "user_mention": "bold magenta",
                 "heading": "bold underline", "highlighted": "reverse"}


def styled(message: Message) -> Text:
    """A message's text styled by its markup: text, never parsed as console markup."""
    line = Text(message.text)
    for span in message.markup_spans():
        style = Style.parse(MARKUP_STYLES.get(span["type"], ""))
        if span["type"] == "link":
            style += Style(link=span["url"])
        line.stylize(style, span["from"], span["from"] + span["length"])
    return line


class MessageLine(ListItem):
    def __init__(self, message: Message | None, text: str | Text, mark: str = "") -> None:
        self.label = Static()
        super().__init__(self.label)
        self.message = message
        self.text = text
        self.set_mark(mark)

    def set_mark(self, mark: str) -> None:
        line = Text(f"{mark} " if mark else "", style="dim")
        line.append(self.text)  # a Text, or a str appended as is: never console markup
        self.label.update(line)


class ChatApp(App[None]):
    TITLE = "Darbuka"
    CSS = """
    #status { height: 1; background: $boost; padding: 0 1; }
    #chats { width: 32; border-right: solid $accent; }
    #log { height: 1fr; }
    #signin { width: 60; height: auto; border: round $accent; padding: 1 2; }
    SignIn { align: center middle; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [("ctrl+q", "quit", "Quit")]

    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client = client
        self.chat_id: int | None = None
        self.me_id = 0
        self.names: dict[int, str] = {}
        self.pending: dict[str, MessageLine] = {}
        self.chats: dict[int, Chat] = {}

    def compose(self) -> ComposeResult:
        yield Static(STATE_MARKS["offline"], id="status")
        with Horizontal():
            yield ListView(id="chats")
            with Vertical():
                yield ListView(id="log")
                yield Input(placeholder="Write a message; Enter sends; /file PATH sends a "
                            "file; /search WORDS finds in this chat", id="compose")

    async def on_mount(self) -> None:
        self.client.on_state.append(lambda state: self._show_state())
        self.client.on_upload.append(self._show_upload)
        await self.client.start()
        if self.client.token is None:
            await self.push_screen(SignIn(self.client), callback=self._signed_in)
        else:
            await self._signed_in(True)

    async def _signed_in(self, signed_in: bool | None) -> None:
        if not signed_in:
            return
        self.me_id = (await self.client.me()).id
        await self._load_chats()
        self._follow()

    def _show_state(self) -> None:
        count = len(self.pending)
        text = STATE_MARKS.get(self.client.state, self.client.state)
        self.query_one("#status", Static).update(text + (f" · {count} pending" if count else ""))

    async def _load_chats(self) -> None:
        chats = self.query_one("#chats", ListView)
        await chats.clear()
        self.chats = {chat.id: chat for chat in await self.client.chats()}
        for chat in self.chats.values():
            await chats.append(ChatItem(chat))
        if chats.children:
            chats.index = 0

    @on(ListView.Selected, "#chats")
    async def open_chat(self, event: ListView.Selected) -> None:
        if not isinstance(event.item, ChatItem):
            return
        compose = self.query_one("#compose", Input)
        await self._keep_draft(compose.value)
        self.chat_id = event.item.chat_id
        draft = self.chats[self.chat_id].draft if self.chat_id in self.chats else None
        compose.value = draft.text if draft else ""
        log = self.query_one("#log", ListView)
        await log.clear()
        self.pending.clear()
        history = await self.client.history(self.chat_id)
        for message in history:
            await log.append(MessageLine(message, await self._line(message)))
        if history:
            self._mark("read", self.chat_id, max(m.seq for m in history))
        for item in await self.client.pending():
            if item.chat_id == self.chat_id:
                text = _media_text(item.kind, Path(item.file).name, item.text) \
                    if item.kind and item.file else item.text
                await self._append_pending(item.client_id, text, "✗" if item.error else "⏳")
        log.scroll_end(animate=False)
        self.query_one("#compose", Input).focus()

    @on(Input.Submitted, "#compose")
    async def send(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text or self.chat_id is None:
            return
        event.input.value = ""
        if text.startswith(FILE_COMMAND):
            await self._send_file(text.removeprefix(FILE_COMMAND).strip())
            return
        if text == UNMUTE_COMMAND or text.split()[0] == MUTE_COMMAND:
            await self._mute(text)
            return
        if text.startswith(SEARCH_COMMAND):
            await self._search(text.removeprefix(SEARCH_COMMAND).strip())
            return
        if text.split()[0] == VOTE_COMMAND:
            await self._vote(text.removeprefix(VOTE_COMMAND).strip())
            return
        client_id = await self.client.send(self.chat_id, text)
        await self._append_pending(client_id, text, "⏳")

    def _poll_lines(self) -> list[MessageLine]:
        return [line for line in self.query_one("#log", ListView).query(MessageLine)
                if line.message is not None and line.message.poll is not None]

    async def _vote(self, choice: str) -> None:
        polls = self._poll_lines()
        log = self.query_one("#log", ListView)
        if not polls or self.chat_id is None:
            await log.append(MessageLine(None, "no poll in this chat", "✗"))
            return
        try:
            options = [int(n) - 1 for n in re.split(r"[,\s]+", choice) if n]
            message = polls[-1].message
            assert message is not None  # noqa: S101 - _poll_lines keeps only messages
            await self.client.vote(self.chat_id, message.id, options)
        except ValueError:
            await log.append(MessageLine(None, "/vote takes option numbers: /vote 2", "✗"))
        except ApiError as err:
            await log.append(MessageLine(None, err.message, "✗"))

    async def _update_poll(self, message_id: int) -> None:
        for line in self._poll_lines():
            if line.message is not None and line.message.id == message_id:
                line.text = await self._line(line.message)
                line.set_mark("")

    async def _send_file(self, name: str) -> None:
        assert self.chat_id is not None  # noqa: S101 - checked by the caller
        path = Path(os.path.expanduser(name))  # noqa: ASYNC240 - no disk I/O
        if file_size(path) is None:
            self.notify(f"no such file: {name}", severity="error")
            return
        kind = guess_kind(path)
        client_id = await self.client.send_file(self.chat_id, path, kind=kind)
        await self._append_pending(client_id, _media_text(kind, path.name, ""), "⏳")

    async def _mute(self, command: str) -> None:
        assert self.chat_id is not None  # noqa: S101 - checked by the caller
        try:
            if command == UNMUTE_COMMAND:
                await self.client.unmute(self.chat_id)
                self.notify("unmuted")
                return
            for_s, mentions = parse_mute(command.removeprefix(MUTE_COMMAND))
            await self.client.mute(self.chat_id, for_s=for_s, mentions=mentions)
            self.notify("muted" + (" (mentions still notify)" if mentions else ""))
        except (ValueError, ApiError) as error:
            self.notify(str(error), severity="error")

    async def _keep_draft(self, text: str) -> None:
        """Leaving a chat keeps what was typed there as its draft (and clears a draft
        that was emptied); a draft that cannot be saved now stays local."""
        chat = self.chats.get(self.chat_id or 0)
        if chat is None or text == (chat.draft.text if chat.draft else ""):
            return
        with contextlib.suppress(ApiError, httpx.HTTPError):
            await self.client.save_draft(chat.id, text)
    async def _search(self, query: str) -> None:
        """Messages of this chat holding `query`, newest first, listed under the log."""
        assert self.chat_id is not None  # noqa: S101 - checked by the caller
        try:
            found = await self.client.search(query, chat_id=self.chat_id)
        except ApiError as err:
            self.notify(err.message, severity="error")
            return
        log = self.query_one("#log", ListView)
        await log.append(MessageLine(None, f"search {query!r}: {len(found.messages)} found",
                                     "🔎"))
        for hit in found.messages:
            await log.append(MessageLine(None, f"#{hit.message.seq} {hit.marked()}", "🔎"))
        log.scroll_end(animate=False)

    def _show_upload(self, client_id: str, sent: int, total: int) -> None:
        line = self.pending.get(client_id)
        if line is not None and total:
            line.set_mark(f"⏳ {sent * 100 // total}%")

    async def _append_pending(self, client_id: str, text: str, mark: str) -> None:
        line = MessageLine(None, f"you: {text}", mark)
        self.pending[client_id] = line
        log = self.query_one("#log", ListView)
        await log.append(line)
        log.scroll_end(animate=False)
        self._show_state()

    @work(exclusive=True, group="events")
    async def _follow(self) -> None:
        async for event in self.client.events():
            await self._apply(event)

    async def _apply(self, event: Event) -> None:
        receipt = event.type in ("chat.delivered", "chat.read")
        if receipt and event.data.get("user_id") != self.me_id:
            return  # others' receipts: nothing in the chat list changes
        if event.type == "reset" or event.type.startswith(("chat.", "member.", "mute.",
                                                           "draft.")):
            await self._load_chats()
            return
        if event.type in ("poll.results", "poll.vote") and \
                event.data.get("chat_id") == self.chat_id:
            await self._update_poll(int(event.data["message_id"]))
            return
        message = event.message
        if event.type != "message.new" or message is None:
            return
        if message.sender_id != self.me_id:
            # On screen it is read; in another chat it has at least reached this device.
            self._mark("read" if message.chat_id == self.chat_id else "delivered",
                       message.chat_id, message.seq)
        if message.chat_id != self.chat_id:
            return
        line = self.pending.pop(message.client_id or "", None)
        if line is not None:
            line.message = message
            line.set_mark("")
            self._show_state()
            return
        log = self.query_one("#log", ListView)
        await log.append(MessageLine(message, await self._line(message)))
        log.scroll_end(animate=False)

    def _mark(self, kind: str, chat_id: int, seq: int) -> None:
        """Send a read or delivered mark in the background; a lost one is resent by the
        next message, so failures are dropped."""
        async def send() -> None:
            with contextlib.suppress(ApiError, httpx.HTTPError):
                if kind == "read":
                    await self.client.mark_read(chat_id, seq)
                else:
                    await self.client.mark_delivered(chat_id, seq)

        self.run_worker(send(), group="marks")

    async def _line(self, message: Message) -> Text:
        if message.raw.get("system"):
            return Text(f"· {message.raw['system'].get('action', 'system')}")
        if message.deleted:
            return Text("· (deleted)")
        text = styled(message)
        if (poll := message.poll) is not None:
            try:
                results = await self.client.poll_results(message.chat_id, message.id)
            except ApiError:
                results = None
            text = Text("\n".join(poll_lines(message.text, poll, results)))
        media = message.raw.get("media")
        if isinstance(media, dict):
            label = _media_text(str(media.get("kind")), str(media.get("name") or ""), "")
            text = Text(label + " ") + text if message.text else Text(label)
        sender = message.sender_id or 0
        if sender == self.me_id:
            return Text("you: ") + text
        if sender not in self.names:
            try:
                self.names[sender] = (await self.client.user(sender)).display_name
            except ApiError:
                self.names[sender] = f"user {sender}"
        return Text(f"{self.names[sender] or f'user {sender}'}: ") + text

    async def on_unmount(self) -> None:
        await self.client.close()


def _chat_title(chat: Chat) -> str:
    title = chat.title or ("direct chat" if chat.kind == "direct" else f"chat {chat.id}")
    if chat.mute is not None and chat.mute.holds_at(time.time_ns() // 1_000_000):
        title = f"🔕 {title}"
    return f"{title} ({chat.unread_count})" if chat.unread_count else title


def _media_text(kind: str, name: str, caption: str) -> str:
    """`[photo] caption`, `[file report.pdf]`: what a media message looks like here."""
    label = f"[{kind} {name}]" if kind == "file" and name else f"[{kind}]"
    return f"{label} {caption}".rstrip()

"""Sign-in by phone number and one-time code; device tokens stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from darbuka.clock import Clock
from darbuka.errors import BadRequest, Forbidden, NotFound, RateLimited, Unauthorized
from darbuka.services.codes import CodeSender
from darbuka.services.principals import PrincipalCache
from darbuka.services.ratelimit import RateLimiter
from darbuka.services.text import clean_name
from darbuka.services.views import user_view
from darbuka.services.writer import Tx, Writer
from darbuka.settings import Settings
from darbuka.storage import Database, Stores
from darbuka.storage.rows import UserRow

__all__ = ["SIGNED_OUT", "AuthService", "Principal", "SignUpHook", "check_not_restricted",
           "hash_token", "normalise_phone", "sign_out_devices", "signed_out", "signs_out"]

CODE_TTL_MS = 10 * 60 * 1000
# Checks of codes against one number are counted in windows this long.
CHECK_WINDOW_MS = 3600 * 1000
TOKEN_PREFIX = "dk_"  # noqa: S105 - a prefix, not a secret
# A device's `last_seen_at` moves at most this often (a socket counts as use: the gateway
# touches the devices it has connected as often).
TOUCH_EVERY_MS = 10 * 60 * 1000
DAY_MS = 24 * 3600 * 1000
# Idle devices signed out per transaction by the sweep.
SWEEP_BATCH = 500
# Runs inside the transaction that creates a user (e.g. "X joined" for their contacts).
SignUpHook = Callable[[Tx, UserRow], Awaitable[None]]
# The event that ends a device's live sessions (its sockets and long polls, on every process).
SIGNED_OUT = "device.revoked"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user row and the device (token) they call with."""

    user: UserRow
    device_id: int

    @property
    def user_id(self) -> int:
        return int(self.user["id"])


def check_not_restricted(user: UserRow, now: int) -> None:
    """A banned account, or one suspended until later, may use only the appeal routes.

    A suspension lapses by itself at `restricted_until`; nothing has to run to lift it.
    """
    status, until = user.get("status", "active"), user.get("restricted_until")
    if status == "banned" or (status == "suspended" and (until is None or until > now)):
        ending = f" until {until} (ms)" if status == "suspended" and until else ""
        raise Forbidden(f"this account is {status}{ending}; GET /api/v1/statements says why, "
                        "and POST /api/v1/appeals contests it", code=f"account_{status}")


def signs_out(event_type: str, body: Mapping[str, Any], device_id: int | None) -> bool:
    """Whether an event ends the live sessions of `device_id` (None: a session that is no
    device's, such as a bot's webhook, which no sign-out ends)."""
    return (event_type == SIGNED_OUT and device_id is not None
            and body.get("device_id") == device_id)


def signed_out() -> Unauthorized:
    """What a token that no longer authenticates gets, and a session it had open."""
    return Unauthorized("this token is not valid (signed out, revoked or unused too long)",
                        code="invalid_token")


async def sign_out_devices(tx: Tx, user_id: int, device_ids: Iterable[int], *,
                           reason: str) -> list[int]:
    """Delete the user's devices, so their tokens stop working, and end their live sessions:
    the event, stored and sent after commit, reaches every process, where each socket or
    long poll of a device it names closes itself. Answers the ids that were still there.

    `reason`: revoked (by the user or an operator), expired (unused), banned, rotated.
    """
    gone = []
    for device_id in device_ids:
        if await tx.stores.devices.delete(tx.conn, user_id=user_id, device_id=device_id):
            await tx.emit(SIGNED_OUT, {"device_id": device_id, "reason": reason},
                          user_id=user_id)
            gone.append(device_id)
    return gone


def normalise_phone(raw: object) -> str:
    """E.164 (`+441632960961`) or BadRequest. Numbers must carry their country code."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest("phone must be a string like +441632960961", code="invalid_phone")
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as exc:
        raise BadRequest("phone must start with + and a country code",
                         code="invalid_phone") from exc
    if not phonenumbers.is_possible_number(number):
        raise BadRequest("that is not a possible phone number", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def hash_token(token: str) -> bytes:
    # Tokens are 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).digest()


class AuthService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock,
                 limits: RateLimiter, sender: CodeSender, settings: Settings,
                 secret: bytes, on_sign_up: SignUpHook | None = None,
                 principals: PrincipalCache | None = None) -> None:
        self._db = db
        self._on_sign_up = on_sign_up
        self._stores = stores
        self._writer = writer
        self._clock = clock
        self._limits = limits
        self._sender = sender
        self._settings = settings
        self._secret = secret
        self._idle_expiry_ms = settings.device_idle_expiry_days * DAY_MS
        # The bus calls `principals.on_events` (see the composition root).
        self.principals = principals or PrincipalCache()

    @property
    def code_sender_name(self) -> str:
        return self._sender.name

    def _code_hash(self, phone: str, code: str) -> bytes:
        return hmac.new(self._secret, f"{phone}:{code}".encode(), hashlib.sha256).digest()

    async def do_request_code(self, raw_phone: object, ip: str) -> dict[str, Any]:
        phone = normalise_phone(raw_phone)
        s = self._settings
        await self._limits.check_hit(f"code-ip:{ip}", limit=s.code_requests_per_ip_hour,
                                     window_s=3600)
        await self._limits.check_hit(f"code-phone:{phone}",
                                     limit=s.code_requests_per_phone_hour, window_s=3600)
        code = f"{secrets.randbelow(1_000_000):06d}"
        expires_at = self._clock.now_ms() + CODE_TTL_MS

        async def store(tx: Tx) -> None:
            await tx.stores.codes.put(tx.conn, phone=phone, code_hash=self._code_hash(phone, code),
                                      expires_at=expires_at)

        await self._writer.run(store)
        await self._sender.send(phone, code, CODE_TTL_MS // 1000)
        return {"phone": phone, "expires_in": CODE_TTL_MS // 1000, "sender": self._sender.name}

    async def do_sign_in(self, raw_phone: object, code: object, device_name: str,
                         ip: str) -> dict[str, Any]:
        phone = normalise_phone(raw_phone)
        await self._limits.check_hit(f"signin-ip:{ip}",
                                     limit=self._settings.sign_ins_per_ip_hour, window_s=3600)
        if not isinstance(code, str) or not code.isdigit() or len(code) != 6:
            raise BadRequest("the code is 6 digits", code="invalid_code")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)

        async def check_and_sign_in(tx: Tx) -> UserRow | None:
            if not await self._check_code(tx, phone, code):
                return None  # and commit: the check counts although the code was wrong
            user = await tx.stores.users.by_phone(tx.conn, phone)
            if user is None:
                user_id = await tx.stores.users.create(tx.conn, phone=phone, now=tx.now)
                user = await tx.stores.users.get(tx.conn, user_id)
                assert user is not None  # noqa: S101 - just inserted in this transaction
                await self._signed_up(tx, user)
            await tx.stores.devices.create(tx.conn, user_id=user["id"],
                                           name=clean_name(device_name) or "device",
                                           token_hash=hash_token(token), now=tx.now)
            return user

        user = await self._writer.run(check_and_sign_in)
        if user is None:
            raise _WrongCode()
        return {"token": token, "user": user_view(user)}

    async def _check_code(self, tx: Tx, phone: str, code: str) -> bool:
        """Count the check, then compare, in one transaction: however many guesses arrive
        at once, and at however many processes, no more than the limit are compared.

        The count is per number, not per code, and a right code starts it over.
        """
        row = await tx.stores.codes.count_check(tx.conn, phone, now=tx.now,
                                                window_ms=CHECK_WINDOW_MS)
        if row["attempts"] > self._settings.sign_ins_per_phone_hour:
            wait_s = -(-(row["attempts_reset_at"] - tx.now) // 1000)
            raise RateLimited("too many sign-in attempts for this number; try again later",
                              retry_after=wait_s)
        # Expired, used, never sent or wrong: one answer, so a stranger's guess does not
        # tell whether someone just asked for a code for this number.
        right = hmac.compare_digest(row["code_hash"], self._code_hash(phone, code))
        if right and row["expires_at"] >= tx.now:
            await tx.stores.codes.remove(tx.conn, phone)
            return True
        return False

    async def do_issue_token(self, phone: str, *, name: str | None,
                             device_name: str = "admin") -> tuple[str, UserRow]:
        """For operators and tests: create the user if needed, return a new device token."""
        phone = normalise_phone(phone)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)

        async def issue(tx: Tx) -> UserRow:
            user = await tx.stores.users.by_phone(tx.conn, phone)
            if user is None:
                user_id = await tx.stores.users.create(tx.conn, phone=phone, now=tx.now,
                                                       display_name=name or "")
            else:
                user_id = user["id"]
                if name:
                    await tx.stores.users.update(tx.conn, user_id, {"display_name": name})
            await tx.stores.devices.create(tx.conn, user_id=user_id, name=device_name,
                                           token_hash=hash_token(token), now=tx.now)
            found = await tx.stores.users.get(tx.conn, user_id)
            assert found is not None  # noqa: S101 - exists in this transaction
            if user is None:
                await self._signed_up(tx, found)
            return found

        user = await self._writer.run(issue)
        return token, user

    async def _signed_up(self, tx: Tx, user: UserRow) -> None:
        if self._on_sign_up is not None:
            await self._on_sign_up(tx, user)

    async def authenticate(self, token: str | None, *, bot: bool = False,
                           allow_restricted: bool = False) -> Principal:
        """The caller of a token. A bot's token works only on the Bot API (`bot=True`) and a
        person's only on the user API: neither can act as the other. A suspended or banned
        account gets only the routes that let it read its statements of reasons and appeal
        (`allow_restricted`)."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise Unauthorized("sign in first: send Authorization: Bearer <token>")
        token_hash = hash_token(token)
        if (known := self.principals.get(token_hash)) is not None:
            device, user = known
        else:
            async with self._db.read() as conn:
                found = await self._stores.devices.by_token_hash(conn, token_hash)
                owner = await self._stores.users.get(conn, found["user_id"]) if found else None
            if found is None or owner is None:
                raise signed_out()
            device, user = found, owner
            self.principals.put(token_hash, device, user)
        if (user["kind"] == "bot") != bot:
            raise signed_out()
        now = self._clock.now_ms()
        if self._idle_expiry_ms and user["kind"] != "bot" and (
                now - device["last_seen_at"] > self._idle_expiry_ms):
            # Refused at once; signed out now rather than at the next sweep, so whatever
            # session it still has ends too.
            await self._writer.run(lambda tx: sign_out_devices(
                tx, device["user_id"], [device["id"]], reason="expired"))
            raise signed_out()
        if not allow_restricted:
            check_not_restricted(user, now)
        if now - device["last_seen_at"] > TOUCH_EVERY_MS:
            self.touch_later([device["id"]])
            self.principals.touched(token_hash, now)
        return Principal(user=user, device_id=int(device["id"]))

    def touch_later(self, device_ids: Iterable[int]) -> None:
        """Note that the devices are in use (their idle expiry starts again)."""
        for device_id in device_ids:
            self._writer.submit(_touch_batch, device_id)

    async def do_sweep(self) -> int:
        """Sign out the people's devices unused for `DARBUKA_DEVICE_IDLE_EXPIRY_DAYS` (their
        live sessions end as for any sign-out) and forget spent sign-in codes. Bots' tokens
        do not expire: a bot may be quiet for months, and operators revoke or rotate them.
        Answers how many devices were signed out."""
        async def sweep(tx: Tx) -> tuple[int, int]:
            """Devices found idle (up to a batch), and how many this signed out."""
            await tx.stores.codes.purge(tx.conn, tx.now)
            if not self._idle_expiry_ms:
                return 0, 0
            idle = await tx.stores.devices.idle_people(
                tx.conn, seen_before=tx.now - self._idle_expiry_ms, limit=SWEEP_BATCH)
            gone = 0
            for device in idle:
                gone += len(await sign_out_devices(tx, device["user_id"], [device["id"]],
                                                   reason="expired"))
            return len(idle), gone

        total, found = 0, SWEEP_BATCH
        while found == SWEEP_BATCH:
            found, gone = await self._writer.run(sweep)
            total += gone
        return total

    async def list_devices(self, principal: Principal) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            rows = await self._stores.devices.for_user(conn, principal.user_id)
        return [{"id": r["id"], "name": r["name"], "created_at": r["created_at"],
                 "last_seen_at": r["last_seen_at"], "current": r["id"] == principal.device_id}
                for r in rows]

    async def check_signed_in(self, principal: Principal) -> None:
        """For a session opened with `principal`: raise if its device was signed out since.

        A session attaches to the hub after authenticating; a sign-out committed in between
        sent its event before the session listened, so it looks in storage once attached.
        """
        async with self._db.read() as conn:
            device = await self._stores.devices.get(conn, principal.device_id)
        if device is None:
            raise signed_out()

    async def do_revoke_device(self, principal: Principal, device_id: int) -> None:
        async def revoke(tx: Tx) -> list[int]:
            return await sign_out_devices(tx, principal.user_id, [device_id], reason="revoked")

        if not await self._writer.run(revoke):
            raise NotFound("no such device", code="device_not_found")


class _WrongCode(BadRequest):
    def __init__(self) -> None:
        super().__init__("that code is not right, or no longer valid; ask for a new one if "
                         "it has expired", code="code_invalid")


async def _touch_batch(tx: Tx, device_ids: list[int]) -> list[None]:
    for device_id in device_ids:
        await tx.stores.devices.touch(tx.conn, device_id, tx.now)
    return [None] * len(device_ids)

"""Settings: one frozen object built from `DARBUKA_*` variables and command-line flags.

Every setting is listed in `docs/operator.md`; a test fails if one is missing there.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    # Empty means SQLite at <data_dir>/darbuka.db.
    database_url: str = ""
    # Empty means the in-process bus (one server process).
    redis_url: str = ""
    # Channel names start with this: several installations can share one Redis.
    redis_prefix: str = "darbuka"
    # Presence with Redis: each process claims its online users for presence_ttl_s and
    # renews the claims every presence_refresh_s, so a user whose process died shows offline
    # at most presence_ttl_s later (one who disconnects, at once).
    presence_ttl_s: float = 45.0
    presence_refresh_s: float = 15.0
    # Keys codes (HMAC). Empty: made once into <data_dir>/secret.key. Processes that share a
    # database must share this.
    secret_key: str = ""
    # SQLite durability: FULL syncs every commit (group commit keeps that cheap); NORMAL
    # survives a crashed process but may lose the last commits on power loss.
    sqlite_synchronous: str = "FULL"
    log_level: str = "info"
    # "text" (for people) or "json" (one object a line, with the request id, for machines).
    log_format: str = "text"
    # GET /metrics (Prometheus): off unless one of these is set. With a port, it is served
    # there alone (on metrics_host), not on the main port; with a token, callers must send
    # `Authorization: Bearer <token>` (on either port).
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    metrics_token: str = ""
    # /api/v1/ready fails while live delivery has waited this long on a missing event.
    ready_max_bus_lag_s: float = 10.0
    # Where sign-in codes go: "console" (the server log) or "webhook".
    code_sender: str = "console"
    code_webhook_url: str = ""
    # Requests larger than this are refused with 413 before they are parsed.
    max_body_bytes: int = 1_048_576
    # Events returned per sync page and replayed per socket slice.
    sync_page_size: int = 500
    # A client further behind than this many events gets `reset` instead of a replay.
    sync_reset_after: int = 10_000
    # Frames queued for one socket before it is told to resume and disconnected.
    ws_queue_limit: int = 2_000
    # A socket that sends nothing (not even a ping) for this long is closed.
    ws_idle_timeout_s: float = 75.0
    # Group commit: how long a batch waits for more sends before it begins. 0: not at all —
    # the COMMIT runs off the loop, and whatever arrives meanwhile shares the next one.
    commit_window_ms: float = 0.0
    commit_max_batch: int = 512
    # Rate limits (count per window).
    code_requests_per_phone_hour: int = 5
    code_requests_per_ip_hour: int = 30
    sign_ins_per_ip_hour: int = 60
    # Sessions and sign-in. Codes checked against one number in an hour, by every process
    # together and whatever codes it asked for: 6 digits must not be guessable by asking
    # for new codes or by spreading guesses over addresses. A right code starts it over.
    sign_ins_per_phone_hour: int = 5
    # A person's device token unused this many days stops working and its sessions end: a
    # lost phone or a forgotten browser should not stay signed in for ever. 0: never.
    device_idle_expiry_days: int = 180
    # Contact discovery: numbers an account never uploaded before that it may look up in any
    # 24 hours, and how many it may hold in all (stops enumerating the user base).
    contacts_new_per_day: int = 1_000
    contacts_max_total: int = 5_000
    # Profiles by user id one account may look up in an hour (ids are sequential: stops
    # walking them). People it shares a direct chat or group with are not counted: the web
    # client looks up everyone whose name it shows.
    user_lookups_per_hour: int = 600
    # Invite-link lookups and joins one account may try in an hour (stops guessing links).
    invite_probes_per_hour: int = 60
    # Lookups by @username one account may make in an hour (stops walking the namespace).
    username_lookups_per_hour: int = 60
    # Writes one account (person or bot) may make, by kind, in the notation of the `limits`
    # package: "30/second;600/minute" is both at once, each a fixed window on the clock; ""
    # is no limit. Past one: 429 `rate_limited` with Retry-After, or an `error` frame on the
    # socket. Counted in Redis when redis_url is set, so they hold across processes.
    # Messages sent (socket, HTTP and the Bot API; forwarding a selection is a burst).
    write_limit_sends: str = "30/second;600/minute"
    # Reactions added or removed.
    write_limit_reactions: str = "10/second;120/minute"
    # Read and delivered marks, channel post views and bots' update markers (after a
    # reconnect a client marks every chat that got news at once).
    write_limit_marks: str = "200/10 seconds;1200/minute"
    # Typing notices (clients send one every few seconds while typing).
    write_limit_typing: str = "5/second;60/minute"
    # New uploads: tus creations and Bot API uploads (their bytes are bounded by the quota).
    write_limit_uploads: str = "60/minute;600/hour"
    # Reports, appeals and removal orders.
    write_limit_reports: str = "10/minute;100/day"
    # New chats: groups, channels and direct chats.
    write_limit_chats: str = "20/minute;200/day"
    # Every other change a person or bot makes: edits, deletes, members, roles, pins, invite
    # links, the profile, privacy, blocks, stickers, avatars, bot buttons and webhooks.
    write_limit_other: str = "30/second;600/minute"
    # Anti-spam. An account is new for its first `new_account_hours`: meanwhile it makes at
    # most `new_account_chats` groups and channels and starts at most
    # `new_account_direct_chats` direct chats (0: none at all). See docs/security.md.
    new_account_hours: int = 24
    new_account_chats: int = 5
    new_account_direct_chats: int = 10
    # The same content (a text of at least `spam_min_text` characters, or the same media)
    # sent by one account into more than `spam_same_content_chats` chats within
    # `spam_window_s` is held for a moderator's review instead of being delivered.
    spam_same_content_chats: int = 5
    spam_window_s: int = 600
    spam_min_text: int = 20
    # Frames one socket may have in progress (sends not yet stored, marks, typing): past it
    # the server stops reading that socket until some are done.
    ws_frames_in_flight: int = 128
    # Serve the built web client from this folder when it exists.
    web_dir: Path = Path("web/dist")
    # Bot API webhooks: this process's job runner takes delivery jobs (each bot's updates
    # go out from one process at a time, whichever takes its job). Off: others deliver.
    bot_webhooks: bool = True
    # Let webhooks point at loopback and private networks (tests, an all-internal setup).
    bot_webhook_allow_private: bool = False
    # Retries of a failed webhook: full-jitter backoff from base up to max seconds apart,
    # for at most max_age seconds after the update (then it is dropped).
    bot_webhook_retry_base_s: float = 30.0
    bot_webhook_retry_max_s: float = 900.0
    bot_webhook_max_age_s: float = 8 * 3600.0
    bot_webhook_timeout_s: float = 10.0
    # Web Push. The VAPID key that signs every push (a PEM P-256 private key); empty: made
    # once into <data_dir>/vapid.pem. Processes that share a database must share it, or the
    # browsers' subscriptions (made for its public key) stop working. push_subject is the
    # contact push services may write to about our pushes (mailto: or https:).
    push_vapid_private_key: str = ""
    push_subject: str = "mailto:postmaster@localhost"
    # Let push endpoints be plain http or on loopback and private networks (tests, a push
    # service on your own network).
    push_allow_private: bool = False
    # How long a push service keeps a push for a device that is away (then drops it).
    push_ttl_s: int = 86_400
    push_timeout_s: float = 10.0
    # The largest file a bot may POST to a Bot API upload URL (taken in one request and
    # held in memory while it is read; the per-kind upload limits apply too).
    bot_upload_max_bytes: int = 64 * 1024**2
    # Behind a reverse proxy: take the client's address from X-Forwarded-For, but only as
    # far as the proxies listed in forwarded_allow_ips (addresses or networks, or "*") vouch
    # for it; the rest of the header is the client's own writing.
    trust_proxy_headers: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    # Removal orders: disable the content the moment an order arrives (a moderator then
    # confirms or refuses), and alert staff this long before the one-hour clock runs out.
    order_disable_on_receipt: bool = True
    order_alert_before_s: int = 900
    # Alerts to the on-call list (see docs/moderation.md): an order still undecided this long
    # after receipt alerts operators (tier 2), and after the second, everyone on the list.
    alert_escalate_operators_s: float = 900.0
    alert_escalate_everyone_s: float = 2700.0
    # Let alert webhooks point at loopback and private networks (tests, internal paging).
    alert_webhook_allow_private: bool = False
    # E-mail alerts go through this SMTP server (none: e-mail recipients are retried until
    # one is set). STARTTLS when the server offers it, unless told not to.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_from: str = "darbuka@localhost"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    # How often the clocks of open orders are checked and expired preserved copies purged.
    safety_sweep_interval_s: float = 30.0
    # How often each server process loads hash-bank changes made by other processes (the
    # process that makes a change applies it at once). 0 turns polling off.
    safety_bank_poll_s: float = 2.0
    # Blobs and unfinished uploads: in <data_dir>/media (one machine) unless s3_bucket is set,
    # then in that S3-compatible bucket, which every server process must share. The bucket is
    # made at start when it does not exist. An empty endpoint is AWS S3 itself.
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = "us-east-1"
    # How often blobs nothing refers to (and parts of uploads that are gone) are deleted, by
    # one process at a time; 0: never (then run `darbuka admin sweep-blobs`, e.g. from a
    # timer). Blobs and parts younger than the grace are kept: they may be about to be
    # recorded.
    blob_sweep_interval_s: float = 3600.0
    blob_sweep_grace_s: float = 3600.0
    # Media: the largest upload per kind. Photos also bound stickers and avatars.
    upload_max_file_bytes: int = 2 * 1024**3
    upload_max_video_bytes: int = 2 * 1024**3
    upload_max_photo_bytes: int = 20 * 1024**2
    upload_max_voice_bytes: int = 20 * 1024**2
    # Bytes one user may hold in uploads (finished or not, refused ones excepted).
    upload_quota_bytes: int = 20 * 1024**3
    # An upload not finished this long after its creation is deleted.
    upload_expiry_s: int = 86_400
    # Images larger than this many pixels are refused before decoding (decompression bombs).
    media_max_pixels: int = 50_000_000
    # Files processed at once by this process, each in a child process (media_timeout_s).
    media_workers: int = 2
    # Background jobs (media processing, webhook delivery, alerts, sweeps): run them in this
    # process. Off (`darbuka serve --no-jobs`): this process only queues them, for a
    # `darbuka worker` or another server. A job's lease is renewed every third of jobs_lease_s
    # while it runs; a process that stops renewing (it died) loses it after that long, and
    # another takes the job over. Runners look for jobs other processes queued every
    # jobs_poll_s (their own process's at once).
    run_jobs: bool = True
    # How often messages scheduled for later are looked for and sent (each look is a small
    # write: a periodic job's turn).
    scheduled_check_s: float = 5.0
    jobs_lease_s: float = 30.0
    jobs_poll_s: float = 1.0
    # How long a send waits for its media to finish processing before asking for a retry.
    media_send_wait_s: float = 10.0
    # What one file may cost to process; past a bound it is refused (`media_too_long`,
    # `media_too_complex`). Frames of an animated image (GIF, WebP, PNG):
    media_max_frames: int = 1_000
    # Seconds of a video or voice note, and frames of a video (an hour at 60 frames/s).
    media_max_duration_s: float = 3_600.0
    media_max_video_frames: int = 216_000
    # Each file is processed in a child process, killed after this many seconds of wall
    # clock (and limited to this much memory: its address space, in bytes).
    media_timeout_s: float = 900.0
    media_max_memory_bytes: int = 4 * 1024**3
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'darbuka.db'}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read `DARBUKA_<NAME>` for each field; `overrides` (flags) win over the environment."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(f"DARBUKA_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _convert(f.type, raw, f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _convert(kind: Any, raw: str, name: str) -> Any:
    kind = str(kind)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if kind == "Path":
            return Path(raw)
    except ValueError as exc:
        raise ValueError(f"DARBUKA_{name.upper()}: {exc}") from exc
    return raw

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
    # Keys codes (HMAC). Empty: made once into <data_dir>/secret.key. Processes that share a
    # database must share this.
    secret_key: str = ""
    # SQLite durability: FULL syncs every commit (group commit keeps that cheap); NORMAL
    # survives a crashed process but may lose the last commits on power loss.
    sqlite_synchronous: str = "FULL"
    log_level: str = "info"
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
    # Group commit: the longest a send waits for others to share its transaction.
    commit_window_ms: float = 1.0
    commit_max_batch: int = 512
    # Rate limits (count per window).
    code_requests_per_phone_hour: int = 5
    code_requests_per_ip_hour: int = 30
    sign_ins_per_ip_hour: int = 60
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
    # Serve the built web client from this folder when it exists.
    web_dir: Path = Path("web/dist")
    # Bot API webhooks: deliver them from this process. With several server processes,
    # leave it on in exactly one (each process that runs it sends every update).
    bot_webhooks: bool = True
    # Let webhooks point at loopback and private networks (tests, an all-internal setup).
    bot_webhook_allow_private: bool = False
    # Retries of a failed webhook: full-jitter backoff from base up to max seconds apart,
    # for at most max_age seconds after the update (then it is dropped).
    bot_webhook_retry_base_s: float = 30.0
    bot_webhook_retry_max_s: float = 900.0
    bot_webhook_max_age_s: float = 8 * 3600.0
    bot_webhook_timeout_s: float = 10.0
    # The largest file a bot may POST to a Bot API upload URL (taken in one request and
    # held in memory while it is read; the per-kind upload limits apply too).
    bot_upload_max_bytes: int = 64 * 1024**2
    trust_proxy_headers: bool = False
    # Removal orders: disable the content the moment an order arrives (a moderator then
    # confirms or refuses), and alert staff this long before the one-hour clock runs out.
    order_disable_on_receipt: bool = True
    order_alert_before_s: int = 900
    # How often the clocks of open orders are checked and expired preserved copies purged.
    safety_sweep_interval_s: float = 30.0
    # How often each server process loads hash-bank changes made by other processes (the
    # process that makes a change applies it at once). 0 turns polling off.
    safety_bank_poll_s: float = 2.0
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
    # Threads that process media (Pillow, PyAV and PDQ release the GIL while they work).
    media_workers: int = 2
    # How long a send waits for its media to finish processing before asking for a retry.
    media_send_wait_s: float = 10.0
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

"""The web client's weight budget: what a first visit fetches before it can draw, gzipped.
The build prints the same figures (web/scripts/sizes.mjs). Everything else is a chunk fetched
later, listed in index.html (`<meta name="later-chunks">`) so the service worker keeps it for
offline use, but the staff-only moderation screen, which ordinary users never fetch."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import pytest

from tests.browser import WEB_DIST

JS_BUDGET = 45 * 1024
CSS_BUDGET = 20 * 1024
STAFF_ONLY = ("Moderation-",)


def _index() -> str:
    index = WEB_DIST / "index.html"
    if not index.exists():
        if os.environ.get("CI"):
            pytest.fail("web/dist is not built (make test builds it)")
        pytest.skip("web/dist is not built (make test builds it)")
    return index.read_text()


def _named(html: str) -> tuple[list[str], list[str]]:
    """The assets index.html names: (loaded before the first draw, listed for later)."""
    first = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="/(assets/[^"]+\.(?:js|css))"', html)
    listed = re.search(r'<meta name="later-chunks" content="([^"]*)"', html)
    later = [p.removeprefix("/") for p in listed.group(1).split()] if listed else []
    return first, later


def _gz(path: str) -> int:
    return len(gzip.compress((WEB_DIST / path).read_bytes(), compresslevel=9))


def test_initial_javascript_and_css_fit_the_budget() -> None:
    html = _index()
    first, _ = _named(html)
    js = sum(_gz(p) for p in first if p.endswith(".js"))
    css = sum(_gz(p) for p in first if p.endswith(".css"))
    print(f"\ninitial JS {js / 1024:.1f} KB, CSS {css / 1024:.1f} KB gzipped")
    assert js > 0, "index.html names its script"
    assert js <= JS_BUDGET, f"initial JS is {js / 1024:.1f} KB gzipped (> 45)"
    assert css <= CSS_BUDGET, f"CSS is {css / 1024:.1f} KB gzipped (> 20)"
    # No inline script or style: the page's CSP would refuse them.
    assert "<script>" not in html
    assert "style=" not in html


def test_only_the_first_language_comes_up_front() -> None:
    """English strings are in the first download; Arabic is a chunk of its own."""
    first, later = _named(_index())
    initial = "".join((WEB_DIST / p).read_text() for p in first if p.endswith(".js"))
    assert "Phone number" in initial
    assert "رقم الهاتف" not in initial
    arabic = [p for p in later if "رقم الهاتف" in (WEB_DIST / p).read_text()]
    assert len(arabic) == 1, later


def test_every_later_chunk_is_named_for_the_service_worker() -> None:
    """The service worker keeps what index.html names (web/public/sw.js): a chunk left out
    would not open offline. The moderator's chunk stays out: users never fetch it."""
    first, later = _named(_index())
    chunks = sorted(str(p.relative_to(WEB_DIST)) for p in Path(WEB_DIST, "assets").glob("*.js"))
    staff = [c for c in chunks if Path(c).name.startswith(STAFF_ONLY)]
    assert staff, "the moderation screen is a chunk of its own"
    assert not set(staff) & set(first + later)
    named = [p for p in first + later if p.endswith(".js")]
    assert sorted(named) == sorted(set(chunks) - set(staff))

"""The web client's weight budget: what a first visit fetches before it can draw, gzipped.
The build prints the same figures (web/scripts/sizes.mjs)."""

from __future__ import annotations

import gzip
import os
import re

import pytest

from tests.browser import WEB_DIST

JS_BUDGET = 100 * 1024
CSS_BUDGET = 20 * 1024


def test_initial_javascript_and_css_fit_the_budget() -> None:
    index = WEB_DIST / "index.html"
    if not index.exists():
        if os.environ.get("CI"):
            pytest.fail("web/dist is not built (make test builds it)")
        pytest.skip("web/dist is not built (make test builds it)")
    html = index.read_text()
    sizes = {"js": 0, "css": 0}
    for path, kind in re.findall(r'(?:src|href)="/(assets/[^"]+\.(js|css))"', html):
        sizes[kind] += len(gzip.compress((WEB_DIST / path).read_bytes(), compresslevel=9))
    print(f"\ninitial JS {sizes['js'] / 1024:.1f} KB, CSS {sizes['css'] / 1024:.1f} KB gzipped")
    assert sizes["js"] > 0, "index.html names its script"
    assert sizes["js"] <= JS_BUDGET, f"initial JS is {sizes['js'] / 1024:.1f} KB gzipped (> 100)"
    assert sizes["css"] <= CSS_BUDGET, f"CSS is {sizes['css'] / 1024:.1f} KB gzipped (> 20)"
    # No inline script or style: the page's CSP would refuse them.
    assert "<script>" not in html
    assert "style=" not in html

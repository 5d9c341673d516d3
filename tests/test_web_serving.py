"""The built web client at `/`: caching by file kind, a strict CSP, SPA fallback, no escape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from darbuka.api.web import CSP, IMMUTABLE, REVALIDATE
from tests.conftest import LiveServer, make_server

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Darbuka</title>")
    (dist / "assets" / "app-3f2a1c.js").write_text("console.log('hi')")
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    (tmp_path / "secret.txt").write_text("not for the web")
    srv = make_server(database_url, tmp_path / "data", web_dir=dist)
    yield srv
    srv.thread.stop()


def get(server: LiveServer, path: str, method: str = "GET") -> httpx.Response:
    return httpx.request(method, server.url + path, timeout=10)


def test_index_is_revalidated_and_carries_the_csp(site: LiveServer) -> None:
    page = get(site, "/")
    assert page.status_code == 200
    assert "<title>Darbuka</title>" in page.text
    assert page.headers["cache-control"] == REVALIDATE
    assert page.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP
    assert "unsafe-inline" not in CSP
    assert page.headers["x-content-type-options"] == "nosniff"


def test_hashed_assets_are_immutable_and_other_files_revalidated(site: LiveServer) -> None:
    asset = get(site, "/assets/app-3f2a1c.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == IMMUTABLE
    worker = get(site, "/sw.js")
    assert worker.headers["cache-control"] == REVALIDATE


def test_client_routes_fall_back_to_the_index(site: LiveServer) -> None:
    page = get(site, "/chats/42")
    assert page.status_code == 200
    assert "<title>Darbuka</title>" in page.text


def test_no_path_leaves_the_web_folder(site: LiveServer) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
        response = get(site, path)
        assert "not for the web" not in response.text, path


def test_api_paths_stay_json_errors(site: LiveServer) -> None:
    missing = get(site, "/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "route_not_found"
    wrong_method = get(site, "/api/v1/me", method="DELETE")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    post_to_page = get(site, "/chats", method="POST")
    assert post_to_page.status_code == 405
    # The public pages' and the Bot API's path spaces are the server's too.
    for path in ("/c/news/media/abc/original", "/c/news/extra", "/botapi/no-such-thing"):
        response = get(site, path)
        assert response.status_code == 404, path
        assert "<title>Darbuka</title>" not in response.text, path


def test_without_a_build_the_root_says_so(database_url: str, tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path, web_dir=tmp_path / "not-built")
    try:
        response = get(server, "/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "web_client_missing"
    finally:
        server.thread.stop()


def test_precompressed_files_go_to_clients_that_accept_them(site: LiveServer,
                                                             tmp_path: Path) -> None:
    import gzip

    asset = tmp_path / "dist" / "assets" / "app-3f2a1c.js"
    (asset.parent / (asset.name + ".gz")).write_bytes(gzip.compress(asset.read_bytes()))
    packed = httpx.get(site.url + "/assets/app-3f2a1c.js", headers={"accept-encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["content-type"].startswith("text/javascript")
    assert packed.text == "console.log('hi')"  # httpx unpacks it
    assert packed.headers["cache-control"] == IMMUTABLE
    plain = httpx.get(site.url + "/assets/app-3f2a1c.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.text == "console.log('hi')"

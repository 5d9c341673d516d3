"""tus uploads: creation, resume after a dropped link, checksum, termination, expiry, limits."""

from __future__ import annotations

import base64
import hashlib
import socket
from urllib.parse import urlsplit

import pytest

from tests.conftest import LiveServer
from tests.helpers import Api, wait_until
from tests.media_helpers import TUS, create_upload, patch


@pytest.fixture
def server(server_on_each_store: LiveServer) -> LiveServer:
    """Every test here runs with blobs in a folder and in an S3 bucket."""
    return server_on_each_store

def test_options_announce_the_protocol(server: LiveServer) -> None:
    anon = Api(server.url)
    response = anon.call("OPTIONS", "/uploads/", expect=204)
    assert response.headers["tus-version"] == "1.0.0"
    assert set(response.headers["tus-extension"].split(",")) == {
        "creation", "termination", "expiration", "checksum"}
    assert "sha1" in response.headers["tus-checksum-algorithm"]


def test_uploads_need_a_signed_in_user(server: LiveServer) -> None:
    anon = Api(server.url)
    anon.call("POST", "/uploads/", expect=401, headers={**TUS, "Upload-Length": "10"})


def test_upload_in_chunks_with_head_in_between(alice: Api) -> None:
    data = bytes(range(256)) * 40
    upload_id = create_upload(alice, len(data))
    head = alice.call("HEAD", f"/uploads/{upload_id}", expect=200, headers=TUS)
    assert head.headers["upload-offset"] == "0"
    assert head.headers["upload-length"] == str(len(data))
    assert head.headers["cache-control"] == "no-store"
    assert "upload-expires" in head.headers
    assert patch(alice, upload_id, 0, data[:4000]).headers["upload-offset"] == "4000"
    # A PATCH from the wrong offset is refused and changes nothing.
    assert patch(alice, upload_id, 100, data[100:200]).status_code == 409
    assert patch(alice, upload_id, 4000, data[4000:]).status_code == 204
    view = wait_until(lambda: alice.ok("GET", f"/media/{upload_id}")["state"] == "ready"
                      and alice.ok("GET", f"/media/{upload_id}"))
    assert view["size"] == len(data)


def test_interrupted_upload_resumes_without_resending(server: LiveServer, alice: Api) -> None:
    data = hashlib.sha256(b"seed").digest() * 32_768  # 1 MiB that does not compress
    half = len(data) // 2
    upload_id = create_upload(alice, len(data))
    uploads = server.app.state.services.uploads
    before = uploads.bytes_received
    # Send the headers for the whole rest, then only half the body, then drop the link.
    host = urlsplit(server.url)
    with socket.create_connection((host.hostname, host.port)) as sock:
        sock.sendall((f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\n"
                      f"Host: {host.netloc}\r\nAuthorization: Bearer {alice.token}\r\n"
                      "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                      "Content-Type: application/offset+octet-stream\r\n"
                      f"Content-Length: {len(data)}\r\n\r\n").encode() + data[:half])
        wait_until(lambda: uploads.bytes_received - before >= half, message="half received")
    head = alice.call("HEAD", f"/uploads/{upload_id}", expect=200, headers=TUS)
    offset = int(head.headers["upload-offset"])
    assert offset == half
    assert patch(alice, upload_id, offset, data[offset:]).status_code == 204
    # The server took in each byte exactly once: the first half was not sent again.
    assert uploads.bytes_received - before == len(data)
    wait_until(lambda: alice.ok("GET", f"/media/{upload_id}")["state"] == "ready")
    original = alice.call("GET", f"/media/{upload_id}/original", expect=200)
    assert original.content == data


def test_checksum_mismatch_discards_the_chunk(alice: Api) -> None:
    data = b"0123456789" * 100
    upload_id = create_upload(alice, len(data))
    wrong = base64.b64encode(hashlib.sha1(b"other", usedforsecurity=False).digest()).decode()
    response = patch(alice, upload_id, 0, data[:500], **{"Upload-Checksum": f"sha1 {wrong}"})
    assert response.status_code == 460
    assert response.json()["error"]["code"] == "checksum_mismatch"
    assert response.headers["tus-resumable"] == "1.0.0"
    head = alice.call("HEAD", f"/uploads/{upload_id}", expect=200, headers=TUS)
    assert head.headers["upload-offset"] == "0"
    right = base64.b64encode(hashlib.sha1(data[:500], usedforsecurity=False).digest()).decode()
    response = patch(alice, upload_id, 0, data[:500], **{"Upload-Checksum": f"sha1 {right}"})
    assert response.status_code == 204
    assert response.headers["upload-offset"] == "500"
    bad_algo = patch(alice, upload_id, 500, data[500:], **{"Upload-Checksum": "crc32 AAAA"})
    assert bad_algo.status_code == 400


def test_someone_elses_upload_is_not_found(alice: Api, bob: Api) -> None:
    upload_id = create_upload(alice, 100)
    bob.call("HEAD", f"/uploads/{upload_id}", expect=404, headers=TUS)
    assert patch(bob, upload_id, 0, b"x" * 100).status_code == 404
    bob.call("DELETE", f"/uploads/{upload_id}", expect=404, headers=TUS)
    bob.call("GET", f"/media/{upload_id}", expect=404)
    alice.call("HEAD", f"/uploads/{upload_id}", expect=200, headers=TUS)


def test_terminate_removes_the_upload(alice: Api) -> None:
    upload_id = create_upload(alice, 100)
    patch(alice, upload_id, 0, b"x" * 50)
    alice.call("DELETE", f"/uploads/{upload_id}", expect=204, headers=TUS)
    alice.call("HEAD", f"/uploads/{upload_id}", expect=404, headers=TUS)
    assert patch(alice, upload_id, 50, b"x" * 50).status_code == 404


def test_expired_uploads_are_cleaned_up(server: LiveServer, alice: Api) -> None:
    upload_id = create_upload(alice, 100)
    patch(alice, upload_id, 0, b"x" * 10)
    services = server.app.state.services
    assert server.run_async(services.uploads.stored_parts(upload_id)) == 1
    server.clock.advance(server.settings.upload_expiry_s + 1)
    alice.call("HEAD", f"/uploads/{upload_id}", expect=404, headers=TUS)
    assert server.run_async(services.uploads.do_expire()) == 1
    assert server.run_async(services.uploads.stored_parts(upload_id)) == 0


@pytest.mark.parametrize(("headers", "status", "code"), [
    ({"Upload-Length": "0"}, 400, "empty_upload"),
    ({"Upload-Length": "-5"}, 400, "invalid_header"),
    ({"Upload-Length": str(10**18)}, 413, "upload_too_large"),
    ({"Upload-Length": "10", "Upload-Metadata": "kind cGhvdG8=,x !!"}, 400, "invalid_metadata"),
    ({"Upload-Length": "10", "Upload-Metadata": "kind Ym9tYg=="}, 400, "invalid_kind"),
    ({"Upload-Length": "10", "Upload-Defer-Length": "1"}, 400, "invalid_header"),
])
def test_bad_creations(alice: Api, headers: dict[str, str], status: int, code: str) -> None:
    response = alice.call("POST", "/uploads/", headers={**TUS, **headers})
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_protocol_version_and_content_type_are_checked(alice: Api) -> None:
    upload_id = create_upload(alice, 10)
    response = alice.call("PATCH", f"/uploads/{upload_id}", content=b"x" * 10, headers={
        "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert response.status_code == 412
    response = alice.call("PATCH", f"/uploads/{upload_id}", content=b"x" * 10, headers={
        **TUS, "Upload-Offset": "0", "Content-Type": "text/plain"})
    assert response.status_code == 415
    assert patch(alice, upload_id, 0, b"x" * 11).status_code == 400


def test_quota_and_kind_limits(database_url: str, tmp_path: object) -> None:
    from pathlib import Path

    from tests.conftest import make_server

    srv = make_server(database_url, Path(str(tmp_path)), upload_quota_bytes=1000,
                      upload_max_photo_bytes=300)
    try:
        user = srv.sign_up("Quota")
        create_upload(user, 600)
        response = user.call("POST", "/uploads/", headers={**TUS, "Upload-Length": "600"})
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "quota_exceeded"
        response = user.call("POST", "/uploads/", headers={
            **TUS, "Upload-Length": "301", "Upload-Metadata": "kind cGhvdG8="})
        assert response.json()["error"]["code"] == "upload_too_large"
    finally:
        srv.thread.stop()


def test_a_wrong_type_is_refused_from_its_first_bytes(alice: Api) -> None:
    upload_id = create_upload(alice, 10_000, kind="photo", filename="holiday.jpg")
    response = patch(alice, upload_id, 0, b"%PDF-1.7\n" + b"x" * 200)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    alice.call("HEAD", f"/uploads/{upload_id}", expect=404, headers=TUS)

"""Requests generated from the OpenAPI document, signed in as an operator (so staff routes
are reached too), against a real server: whatever comes in, the answer is never a 5xx.

`make test` runs a few cases per operation; `make fuzz` runs `DARBUKA_FUZZ_CASES` per
operation (over 10,000 in all) and prints the figures. PostgreSQL is used when it is set:
it refuses more than SQLite does (NUL bytes, huge integers), so it finds more.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from darbuka.app import build_app
from darbuka.settings import Settings
from tests.conftest import PG_URL, LiveServer, _pg, make_server
from tests.safety_helpers import make_staff

CASES = int(os.environ.get("DARBUKA_FUZZ_CASES", "5"))
with tempfile.TemporaryDirectory() as _tmp:
    OPENAPI = build_app(Settings(data_dir=Path(_tmp))).openapi()
OPERATIONS = sum(len(methods) for methods in OPENAPI["paths"].values())
# Signing the fuzzing device itself out would leave nothing but 401s to test.
SCHEMA = schemathesis.openapi.from_dict(OPENAPI).exclude(
    method="DELETE", path="/api/v1/devices/{device_id}")
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Any]]:
    data = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{data}/darbuka.db"
    if PG_URL:
        import asyncio

        from tests.conftest import _pg_admin

        name = f"darbuka_fuzz_{os.getpid()}"
        asyncio.run(_pg_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}"'))
        asyncio.run(_pg_admin(PG_URL, f'CREATE DATABASE "{name}"'))
        url = _pg(PG_URL).rsplit("/", 1)[0] + "/" + name
    server = make_server(url, data)
    operator = make_staff(server, server.sign_up("Olga Operator"), "operator")
    # Something for the generated ids to find: a chat, a message, another person.
    other = server.sign_up("Otto Other")
    chat = operator.direct(other)
    operator.send(chat["id"], "hello")
    started = time.monotonic()
    yield server, operator
    seconds = time.monotonic() - started
    server.thread.stop()
    total = sum(TALLY.values())
    print(f"\nfuzz: {total} requests over {OPERATIONS - 1} operations in {seconds:.0f} s "
          f"({CASES} cases each at most); statuses {dict(sorted(TALLY.items()))}")


@SCHEMA.parametrize()
@settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_request_is_a_server_error(case: Any, target: tuple[LiveServer, Any]) -> None:
    server, operator = target
    response = case.call(base_url=server.url,
                         headers={"authorization": f"Bearer {operator.token}"}, timeout=30)
    TALLY[str(response.status_code)] += 1
    case.validate_response(response, checks=[checks.not_a_server_error])

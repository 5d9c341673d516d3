"""The docs cannot drift from the code: every setting, route, event type and socket frame is
documented, the generated API reference is current, and links between docs resolve."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from darbuka.app import build_app
from darbuka.reference import BEGIN, END, render_reference
from darbuka.services.events import EVENT_TYPES, SOCKET_FRAMES
from darbuka.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    app = build_app(Settings(data_dir=tmp_path_factory.mktemp("docs")))
    schema: dict[str, object] = app.openapi()
    return schema


def test_every_setting_is_in_the_operator_guide() -> None:
    guide = (DOCS / "operator.md").read_text()
    missing = [f"DARBUKA_{f.name.upper()}" for f in fields(Settings)
               if f.name != "extra" and f"`DARBUKA_{f.name.upper()}`" not in guide]
    assert not missing, f"add these settings to docs/operator.md: {missing}"


def test_the_generated_api_reference_is_current(openapi: dict[str, object]) -> None:
    text = (DOCS / "api.md").read_text()
    assert BEGIN in text
    assert END in text
    current = BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END
    assert current + "\n" == render_reference(openapi), "docs/api.md is stale: run `make docs`"


def test_every_route_event_and_frame_is_in_the_api_reference(
        openapi: dict[str, object]) -> None:
    text = (DOCS / "api.md").read_text()
    paths = openapi["paths"]
    assert isinstance(paths, dict)
    routes = [f"`{method.upper()} {path}`" for path, ops in paths.items() for method in ops]
    names = [f"`{name}`" for name in (*EVENT_TYPES, *SOCKET_FRAMES)]
    missing = [item for item in (*routes, *names) if item not in text]
    assert not missing, f"document these in docs/api.md: {missing}"


def test_every_route_says_what_it_does(openapi: dict[str, object]) -> None:
    paths = openapi["paths"]
    assert isinstance(paths, dict)
    bare = [f"{method.upper()} {path}" for path, ops in paths.items()
            for method, op in ops.items() if not op.get("description")]
    assert not bare, f"give these routes a docstring: {bare}"


def test_links_between_docs_resolve() -> None:
    broken = []
    for page in [ROOT / "README.md", ROOT / "CHANGELOG.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert not broken, broken


def test_readme_shows_exactly_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]


def test_readme_says_how_to_change_the_port_and_where_the_command_is() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run PORT=9000" in readme
    assert "DARBUKA_PORT" in readme
    assert ".venv/bin/darbuka" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert "--port $(PORT)" in makefile, "make run takes PORT="


BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_no_raw_bidirectional_control_characters_in_the_web_sources() -> None:
    """They reorder how the code reads (the build warns about them): write them as code."""
    found = [str(path.relative_to(ROOT)) for path in (ROOT / "web" / "src").rglob("*")
             if path.is_file() and BIDI_CONTROLS.search(path.read_text(encoding="utf-8"))]
    assert not found, found

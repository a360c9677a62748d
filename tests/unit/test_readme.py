"""README.md stays a page a newcomer reads in five minutes, and every local link in it leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_readme_is_short_and_narrow() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines (max 200): move the detail to docs/"
    wide = [number for number, line in enumerate(lines, start=1) if len(line) > 110]
    assert not wide, f"README.md lines over 110 characters: {wide}"


def test_readme_names_the_two_commands_and_the_ui() -> None:
    text = README.read_text()
    for command in ("make run", "make test", "make ui"):
        assert f"`{command}`" in text or f"{command} " in text, command


def test_every_local_link_of_the_readme_exists() -> None:
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", README.read_text())
    assert links, "README.md links nothing"
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, f"README.md links what does not exist: {missing}"

"""Files that name other files must name ones that exist: scripts, and tests cited as the guard of a rule.

Everything git tracks is read, except CHANGELOG.md (history may name what was renamed since) and
this file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
THIS_FILE = Path(__file__).resolve().relative_to(REPO_ROOT).as_posix()
# History may name what was renamed since; this file names the old names on purpose.
SKIPPED = {"CHANGELOG.md", THIS_FILE}
# Names of files that were renamed or never existed, and what replaced them.
RENAMED = {"bootstrap-secrets.sh": "helm/scripts/bootstrap_secrets.py"}
TEST_REFERENCE = re.compile(r"\btests/[\w/]+\.py(?:::(\w+))?")


def tracked_text_files() -> dict[str, str]:
    git = shutil.which("git")
    if git is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    names = subprocess.run(
        [git, "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\0")
    texts = {}
    for name in filter(None, names):
        path = REPO_ROOT / name
        if name in SKIPPED or not path.is_file():
            continue
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
    return texts


def occurrences(texts: dict[str, str], pattern: re.Pattern[str]) -> list[tuple[str, int, re.Match[str]]]:
    found = []
    for name, text in texts.items():
        for number, line in enumerate(text.splitlines(), start=1):
            found += [(name, number, match) for match in pattern.finditer(line)]
    return found


@pytest.mark.parametrize("old,new", RENAMED.items())
def test_no_file_names_a_renamed_script(old: str, new: str) -> None:
    assert (REPO_ROOT / new).is_file(), new
    stale = occurrences(tracked_text_files(), re.compile(re.escape(old)))
    assert not stale, f"{old} does not exist (it is {new}); still named in:\n" + "\n".join(
        f"  {name}:{number}" for name, number, _ in stale
    )


def test_every_cited_test_exists() -> None:
    missing = []
    for name, number, match in occurrences(tracked_text_files(), TEST_REFERENCE):
        path = REPO_ROOT / match.group(0).split("::")[0]
        if not path.is_file():
            missing.append(f"  {name}:{number}: {match.group(0)} (no such file)")
        elif match.group(1) and not re.search(rf"\bdef {match.group(1)}\b", path.read_text()):
            missing.append(f"  {name}:{number}: {match.group(0)} (no such test)")
    assert not missing, "tests cited that do not exist:\n" + "\n".join(missing)

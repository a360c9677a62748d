"""Just enough of Docker to test the Dockerfile and .dockerignore without a Docker engine.

- `parse_dockerfile` splits a Dockerfile into instructions, joining line continuations and
  collecting heredoc bodies (`RUN python - <<'PY' ... PY`).
- `DockerIgnore` decides whether a path of the build context is sent to the builder, with the
  semantics of Docker's pattern matcher (moby/patternmatcher): patterns are Go filepath.Match
  globs plus `**`, a pattern also matches everything below a matching directory, `!` re-includes,
  and the last matching pattern wins.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

HEREDOC = re.compile(r"<<-?([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")


@dataclass
class Instruction:
    keyword: str
    arguments: str
    heredocs: list[str] = field(default_factory=list)
    line: int = 0

    def flags_and_words(self) -> tuple[dict[str, str], list[str]]:
        words = (
            shlex.split(HEREDOC.split(self.arguments)[0]) if self.heredocs else shlex.split(self.arguments)
        )
        flags = {}
        rest = []
        for word in words:
            if word.startswith("--") and not rest:
                name, _, value = word[2:].partition("=")
                flags[name] = value
            else:
                rest.append(word)
        return flags, rest


def parse_dockerfile(text: str) -> list[Instruction]:
    lines = text.splitlines()
    instructions: list[Instruction] = []
    index = 0
    while index < len(lines):
        start = index
        stripped = lines[index].strip()
        index += 1
        if not stripped or stripped.startswith("#"):
            continue
        logical = stripped
        while logical.endswith("\\") and index < len(lines):
            continuation = lines[index].strip()
            index += 1
            if continuation.startswith("#"):
                continue
            logical = logical[:-1].rstrip() + " " + continuation
        keyword, _, arguments = logical.partition(" ")
        bodies = []
        for match in HEREDOC.finditer(arguments):
            delimiter = match.group(2)
            body = []
            while index < len(lines) and lines[index].strip() != delimiter:
                body.append(lines[index])
                index += 1
            index += 1  # the delimiter line
            bodies.append("\n".join(body) + "\n")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), bodies, start + 1))
    return instructions


# --- .dockerignore -------------------------------------------------------------------------------


def _glob_to_regex(pattern: str) -> re.Pattern[str]:
    regex = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*":
            if pattern.startswith("**", index):
                index += 2
                if pattern.startswith("/", index):
                    index += 1
                    regex += "(?:.*/)?"
                else:
                    regex += ".*"
                continue
            regex += "[^/]*"
        elif char == "?":
            regex += "[^/]"
        elif char == "[":
            end = pattern.find("]", index)
            if end == -1:
                regex += re.escape(char)
            else:
                body = pattern[index + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                regex += f"[{body}]"
                index = end
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            regex += re.escape(pattern[index])
        else:
            regex += re.escape(char)
        index += 1
    return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class _Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]


class DockerIgnore:
    def __init__(self, text: str) -> None:
        self.patterns: list[_Pattern] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            exclusion = line.startswith("!")
            if exclusion:
                line = line[1:].strip()
            cleaned = posixpath.normpath(line.lstrip("/"))
            self.patterns.append(_Pattern(cleaned, exclusion, _glob_to_regex(cleaned)))

    @classmethod
    def from_file(cls, path: Path) -> DockerIgnore:
        return cls(path.read_text() if path.exists() else "")

    def excluded(self, path: str) -> bool:
        path = posixpath.normpath(path.lstrip("/"))
        parents = path.split("/")[:-1]
        matched = False
        for pattern in self.patterns:
            # An exclusion (`!`) can only re-include, an ordinary pattern can only exclude.
            if pattern.exclusion != matched:
                continue
            hit = bool(pattern.regex.match(path))
            if not hit:
                hit = any(pattern.regex.match("/".join(parents[: i + 1])) for i in range(len(parents)))
            if hit:
                matched = not pattern.exclusion
        return matched

    def included(self, path: str) -> bool:
        return not self.excluded(path)

"""The recorded payloads (package data under `recordings/`) and the served corpus built from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RECORDINGS_DIR = Path(__file__).resolve().parent / "recordings"


def recording_files(api: str, pattern: str = "*.json") -> list[Path]:
    return sorted((RECORDINGS_DIR / api).glob(pattern))


def load_recording(api: str, name: str) -> Any:
    with open(RECORDINGS_DIR / api / name, encoding="utf-8") as handle:
        return json.load(handle)

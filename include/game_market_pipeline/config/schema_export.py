"""`gmp-config-schema`: print (or write) the JSON Schema of the shared config for editors and pre-commit."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from game_market_pipeline.config.models import PipelineConfig


def config_json_schema() -> dict:
    schema = PipelineConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "game-market-pipeline endpoint config"
    return schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", "-o", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    text = json.dumps(config_json_schema(), indent=2, sort_keys=True) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

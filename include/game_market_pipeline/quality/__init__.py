"""Data quality of the write-audit-publish flow: declared checks, their evaluation, the gate.

The config's `quality:` section is modelled in game_market_pipeline.config.quality (the config package
imports nothing of the project).
"""

"""Data quality of the write-audit-publish flow: declared checks, their evaluation, the gate.

Kept import-light on purpose: the config models import `quality.config` at DAG-parse time.
"""

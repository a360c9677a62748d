"""Pydantic models of API records, one module per source; `registry` maps config names to them."""

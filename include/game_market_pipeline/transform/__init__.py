"""The dbt warehouse: dbt sources generated from the shared config, and the Cosmos rendering."""

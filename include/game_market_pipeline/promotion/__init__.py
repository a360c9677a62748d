"""Publishing a verified build: the blue/green schema swap, rollback, and the DAG wiring.

`add_publish_tasks` (promotion.tasks) appends prepare → checks → gate → promote to the transform DAG;
`promote`/`rollback` (promotion.swap) are the transactions; `report.latest_verdict` prints the outcome.
"""

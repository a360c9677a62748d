"""Manual rollback of the warehouse: swap the previous build back into production.

Trigger with `{"confirm": "ROLLBACK"}`; see game_market_pipeline.promotion.rollback_dag for the details.
"""

from game_market_pipeline.promotion.rollback_dag import build_rollback_dag

dag = build_rollback_dag()

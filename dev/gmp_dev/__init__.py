"""Development tools of game-market-pipeline (never imported by the product): local stack, replay server, dbt runner."""

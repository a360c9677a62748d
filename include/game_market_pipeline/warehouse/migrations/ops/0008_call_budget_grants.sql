-- Calls granted by a source's shared call budget (warehouse/call_budget.py), per UTC day. A grant is
-- taken under a per-source advisory lock before the call and stays `outstanding` until the call was
-- sent (and so counted in ops.api_calls): used = api_calls + outstanding, so tasks and pods of one
-- source running at once never grant more than the budget together. `granted` is the day's total.
CREATE TABLE IF NOT EXISTS {ops}.call_budget_grants (
    source       text    NOT NULL,
    day          date    NOT NULL,
    granted      bigint  NOT NULL DEFAULT 0,
    outstanding  bigint  NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, day)
);

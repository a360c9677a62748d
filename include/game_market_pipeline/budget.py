"""API call budgets: what each endpoint's schedule costs per month against its source's budget
(`gmp-budget`), and the runtime question "may this call still be made?" (`CallGate`).

The estimate per endpoint and month, from the config alone:

    runs/month x calls/run, where calls/run =
      list pages: ceil(records read / page size) (1 without a paginator); records read = the
        last known total (`totals.records`), or for an incremental endpoint the records changed in
        the run's window (`totals.changed_per_day` x (days between runs + 1: the window's dates are
        inclusive at both ends));
      + fan_out: one detail call per record read;
      details_of: at most `max_calls_per_run` (the backlog drains at that pace).

The first full crawl of an incremental endpoint is shown apart ("first crawl"): it is a one-off
that drains over several days at the daily budget, not a monthly cost.

    gmp-budget            # table of every endpoint, exit 1 when a source's schedules exceed its budget
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from typing import Protocol

from game_market_pipeline.config.loader import LoadedConfig, load_config
from game_market_pipeline.config.models import CallBudget, ResolvedEndpoint

DAYS_PER_MONTH = 365.25 / 12


class CallGate(Protocol):
    """Asked before an API call: True = make it (and count it), False = the budget is spent.

    THE place where "would this call exceed the budget?" is asked. The durable per-source/day
    counter (ops.api_calls) plugs in here, so parallel DAGs of one source share one budget."""

    def acquire(self, n: int = 1) -> bool: ...


class UnlimitedGate:
    def acquire(self, n: int = 1) -> bool:
        return True


class CountingGate:
    """An in-process budget of `limit` calls (tests; a fallback without the warehouse counter)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    def acquire(self, n: int = 1) -> bool:
        if self.used + n > self.limit:
            return False
        self.used += n
        return True


# --- schedules ---------------------------------------------------------------------------------

_PRESET_RUNS_PER_DAY = {
    "@hourly": 24.0,
    "@daily": 1.0,
    "@midnight": 1.0,
    "@weekly": 1 / 7,
    "@monthly": 12 / 365.25,
    "@quarterly": 4 / 365.25,
    "@yearly": 1 / 365.25,
    "@annually": 1 / 365.25,
}


def _field_count(field: str, low: int, high: int) -> float:
    """How many values a cron field matches (ranges, lists and steps; `*` is all of them)."""
    total = 0
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            first, last = low, high
        elif "-" in base:
            first, last = (int(x) for x in base.split("-", 1))
        else:
            first = int(base)
            last = high if step_text else first
        total += len(range(first, last + 1, step))
    return float(total)


def runs_per_day(schedule: str | None) -> float:
    """Average scheduled runs per day of an Airflow schedule (a preset or a 5-field cron); 0 for none."""
    if schedule is None or schedule in ("", "@once", "None"):
        return 0.0
    if schedule in _PRESET_RUNS_PER_DAY:
        return _PRESET_RUNS_PER_DAY[schedule]
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"schedule {schedule!r}: not a preset nor a 5-field cron expression")
    minute, hour, day_of_month, month, day_of_week = fields
    per_day = _field_count(minute, 0, 59) * _field_count(hour, 0, 23)
    month_share = _field_count(month, 1, 12) / 12
    if day_of_month in ("*", "?") and day_of_week in ("*", "?"):
        day_share = 1.0
    elif day_of_week in ("*", "?"):
        day_share = _field_count(day_of_month, 1, 31) / DAYS_PER_MONTH
    elif day_of_month in ("*", "?"):
        day_share = _field_count(day_of_week.replace("7", "0"), 0, 6) / 7
    else:  # cron ORs the two day fields
        day_share = min(
            1.0,
            _field_count(day_of_month, 1, 31) / DAYS_PER_MONTH
            + _field_count(day_of_week.replace("7", "0"), 0, 6) / 7,
        )
    return per_day * day_share * month_share


# --- estimates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointCost:
    endpoint: ResolvedEndpoint
    runs_per_month: float
    calls_per_run: float
    first_crawl_calls: int | None  # incremental endpoints: the one-off full crawl
    how: str  # how the number comes about

    @property
    def calls_per_month(self) -> float:
        return self.runs_per_month * self.calls_per_run

    @property
    def calls_per_day(self) -> float:
        return self.calls_per_month / DAYS_PER_MONTH


def _page_size(endpoint: ResolvedEndpoint) -> int | None:
    size = getattr(endpoint.paginator, "page_size", None)
    if size is None:
        size = endpoint.params.get("page_size")
    return int(size) if size else None


def _pages(endpoint: ResolvedEndpoint, records: float) -> float:
    if endpoint.paginator.kind == "none":
        return 1.0
    size = _page_size(endpoint) or 20
    return max(1.0, math.ceil(records / size))


def endpoint_cost(endpoint: ResolvedEndpoint) -> EndpointCost:
    runs = runs_per_day(endpoint.schedule) * DAYS_PER_MONTH
    if endpoint.details_of is not None:
        cap = endpoint.details_of.max_calls_per_run
        return EndpointCost(
            endpoint, runs, float(cap), None, f"details of {endpoint.details_of.endpoint}: ≤{cap}/run"
        )
    if endpoint.totals is None:
        raise ValueError(
            f"{endpoint.source}.{endpoint.name}: no `totals` in the config: gmp-budget cannot estimate its calls"
        )
    total = endpoint.totals.records
    first_crawl = None
    if endpoint.incremental is not None:
        changed = endpoint.totals.changed_per_day
        if changed is None:
            raise ValueError(
                f"{endpoint.source}.{endpoint.name}: incremental without `totals.changed_per_day`: "
                "gmp-budget cannot estimate a run's window"
            )
        days_between = 1 / runs_per_day(endpoint.schedule) if runs else 1.0
        read = min(total, changed * (days_between + 1))
        first_crawl = int(_pages(endpoint, total)) + (total if endpoint.fan_out else 0)
        how = f"{read:,.0f} changed records/run"
    else:
        read = total
        how = f"{total:,} records/run"
    calls = _pages(endpoint, read)
    if endpoint.fan_out is not None:
        calls += read
        how += " + 1 detail each"
    return EndpointCost(endpoint, runs, calls, first_crawl, how)


@dataclass(frozen=True)
class SourceVerdict:
    source: str
    budget: CallBudget | None
    calls_per_month: float
    calls_per_day: float
    problems: tuple[str, ...]


def source_verdicts(costs: list[EndpointCost], loaded: LoadedConfig) -> list[SourceVerdict]:
    assert loaded.config is not None
    verdicts = []
    for source in loaded.config.sources:
        mine = [c for c in costs if c.endpoint.source == source.name]
        month = sum(c.calls_per_month for c in mine)
        # A day's worst case: every endpoint of the source runs that day (weekly ones included).
        day = sum(c.calls_per_run * math.ceil(runs_per_day(c.endpoint.schedule)) for c in mine)
        problems = []
        budget = source.budget
        if budget and budget.calls_per_month and month > budget.calls_per_month:
            problems.append(f"{month:,.0f} calls/month > budget {budget.calls_per_month:,}")
        if budget and budget.calls_per_day and day > budget.calls_per_day:
            problems.append(f"up to {day:,.0f} calls on a day > budget {budget.calls_per_day:,}/day")
        verdicts.append(SourceVerdict(source.name, budget, month, day, tuple(problems)))
    return verdicts


def check_parents(loaded: LoadedConfig) -> list[str]:
    """Problems with `details_of`: the list endpoint must be one of the same source's endpoints."""
    names = {(e.source, e.name) for e in loaded.endpoints}
    return [
        f"{e.source}.{e.name}: details_of.endpoint {e.details_of.endpoint!r} is not an endpoint of source {e.source!r}"
        for e in loaded.endpoints
        if e.details_of is not None and (e.source, e.details_of.endpoint) not in names
    ]


def report(loaded: LoadedConfig) -> tuple[str, bool]:
    """The table `gmp-budget` prints, and whether every source fits its budget."""
    loaded.raise_for_problems()
    costs = [endpoint_cost(e) for e in loaded.endpoints]
    verdicts = source_verdicts(costs, loaded)
    lines = [
        f"{'endpoint':26} {'schedule':11} {'calls/run':>10} {'calls/month':>12} {'first crawl':>12}  how"
    ]
    for cost in costs:
        e = cost.endpoint
        lines.append(
            f"{e.source + '.' + e.name:26} {e.schedule or 'manual':11} {cost.calls_per_run:>10,.0f} "
            f"{cost.calls_per_month:>12,.0f} {cost.first_crawl_calls or 0:>12,}  {cost.how}"
        )
    lines.append("")
    lines.append(
        f"{'source':12} {'calls/month':>12} {'budget/month':>13} {'worst day':>10} {'budget/day':>11}  verdict"
    )
    ok = True
    for v in verdicts:
        month_budget = f"{v.budget.calls_per_month:,}" if v.budget and v.budget.calls_per_month else "-"
        day_budget = f"{v.budget.calls_per_day:,}" if v.budget and v.budget.calls_per_day else "-"
        verdict = "OVER: " + "; ".join(v.problems) if v.problems else ("fits" if v.budget else "no budget")
        ok = ok and not v.problems
        lines.append(
            f"{v.source:12} {v.calls_per_month:>12,.0f} {month_budget:>13} {v.calls_per_day:>10,.0f} "
            f"{day_budget:>11}  {verdict}"
        )
    for cost in costs:
        v = next(x for x in verdicts if x.source == cost.endpoint.source)
        if cost.first_crawl_calls and v.budget and v.budget.calls_per_day:
            days = cost.first_crawl_calls / v.budget.calls_per_day
            lines.append(
                f"first crawl of {cost.endpoint.source}.{cost.endpoint.name}: {cost.first_crawl_calls:,} calls "
                f"= {days:,.1f} days of the whole daily budget (resumes where it stopped)"
            )
    parents = check_parents(loaded)
    for problem in parents:
        lines.append(f"PROBLEM: {problem}")
    return "\n".join(lines), ok and not parents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="API calls per month of every endpoint against its source's budget"
    )
    parser.add_argument("--config", default=None, help="config file (default: the project's)")
    args = parser.parse_args(argv)
    loaded = load_config(args.config) if args.config else load_config()
    text, ok = report(loaded)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""HTML for the Data health page: a `HealthReport` in, one self-contained page out.

Server-rendered with the standard library only (every value passes `html.escape`); charts are inline
SVG. Links to DAG runs and tasks are relative to the Airflow UI's root (`UiLinks.root`). Inside the UI
the page sits in an iframe sandboxed without top navigation (Airflow 3.3: "allow-scripts
allow-same-origin allow-forms allow-downloads"), so a plain link would open the UI inside the frame;
`_UI_LINK_SCRIPT` instead hands such a link to the UI's own router (same origin: push the URL onto the
top window's history and tell the router). Opened on its own, the page's links are ordinary links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from urllib.parse import quote

from game_market_pipeline.health.queries import (
    CHART_DAYS,
    BudgetHealth,
    CheckOutcome,
    DayPoint,
    EndpointHealth,
    HealthReport,
    ProductionHealth,
    PromotionRow,
    QualityHealth,
    QuarantinedRecord,
)

TRANSFORM_DAG_ID = "transform_warehouse"
ROLLBACK_DAG_ID = "rollback_warehouse"
PAGE_TITLE = "Data health"

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 1.5rem 2rem;color:#1a202c;font-size:14px}
h1{font-size:1.5rem;margin:1rem 0 .25rem}h2{font-size:1.15rem;margin:1.75rem 0 .5rem;border-bottom:1px solid #e2e8f0;padding-bottom:.25rem}
nav a{margin-right:1rem}table{border-collapse:collapse;width:100%;margin:.25rem 0 1rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #edf2f7;vertical-align:top}
th{background:#f7fafc;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;white-space:nowrap;padding:.05rem .45rem;border-radius:.6rem;font-size:.8rem;font-weight:600}
.ok{background:#c6f6d5;color:#22543d}.bad{background:#fed7d7;color:#822727}.warn{background:#feebc8;color:#7b341e}
.muted{color:#718096}.none{background:#edf2f7;color:#4a5568}code{font-size:.85em}
.verdict{font-size:1.1rem;margin:.5rem 0}.box{border:1px solid #e2e8f0;border-radius:.4rem;padding:.75rem 1rem;margin:.5rem 0}
button,.button{background:#c53030;color:#fff;border:0;border-radius:.3rem;padding:.4rem .9rem;font-size:.9rem;cursor:pointer;text-decoration:none;display:inline-block}
.button.secondary{background:#718096}input[type=text]{padding:.3rem;font-size:.9rem;width:16rem}
.hist span{display:inline-block;width:.7rem;height:.7rem;margin-right:2px;border-radius:2px}
"""


@dataclass(frozen=True)
class UiLinks:
    """Links into the Airflow UI; `root` is the UI's root relative to the page (e.g. "../")."""

    root: str = "../"

    def dag(self, dag_id: str) -> str:
        return f"{self.root}dags/{quote(dag_id, safe='')}"

    def run(self, dag_id: str, run_id: str) -> str:
        return f"{self.dag(dag_id)}/runs/{quote(run_id, safe='')}"

    def task(self, dag_id: str, run_id: str, task_id: str) -> str:
        return f"{self.run(dag_id, run_id)}/tasks/{quote(task_id, safe='')}"


def _a(href: str, text: str) -> str:
    return f'<a href="{escape(href)}" data-ui-link target="_top">{escape(text)}</a>'


# Inside the UI's iframe: navigate the UI (a single-page app) to a link's page instead of the frame.
_UI_LINK_SCRIPT = """
document.addEventListener("click", function (event) {
  var link = event.target.closest("a[data-ui-link]");
  if (!link || window.top === window || event.button !== 0 || event.ctrlKey || event.metaKey) return;
  try {
    var url = new URL(link.getAttribute("href"), window.location.href);
    window.top.history.pushState(null, "", url.pathname + url.search + url.hash);
    window.top.dispatchEvent(new PopStateEvent("popstate"));
    event.preventDefault();
  } catch (err) {
    /* another origin: the browser follows the link as usual */
  }
});
"""


def _when(value: datetime | None) -> str:
    return "—" if value is None else escape(f"{value:%Y-%m-%d %H:%M:%S %Z}".strip())


def _age(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = max(0, int(value.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.4g}"


def _badge(text: str, kind: str) -> str:
    return f'<span class="badge {kind}">{escape(text)}</span>'


_STATUS_KIND = {
    "loaded": "ok",
    "skipped_already_loaded": "ok",
    "budget_exhausted": "warn",
}


def status_badge(status: str | None) -> str:
    if status is None:
        return _badge("never ran", "none")
    return _badge(status, _STATUS_KIND.get(status, "bad"))


def records_chart(days: list[DayPoint], width: int = 168, height: int = 40) -> str:
    """Bars: records per ingest date; red line and dots: the quarantined share of that day's records."""
    if not days:
        return '<span class="muted">no runs</span>'
    # A fixed slot per day of the window, newest at the right: one day of data is one bar, not a block.
    slots = max(len(days), CHART_DAYS)
    slot = width / slots
    offset = (slots - len(days)) * slot
    top_records = max(d.records for d in days) or 1
    # The share axis tops at 5 % at least, so 0.1 % does not look like a disaster.
    top_share = max(0.05, max(d.quarantine_share for d in days))
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="records and quarantine share per day">'
    ]
    points = []
    for i, day in enumerate(days):
        bar = (height - 4) * day.records / top_records
        x = offset + i * slot
        share = day.quarantine_share
        tip = f"{day.ingest_date}: {day.records:,} records, {day.quarantined:,} quarantined ({share:.1%})"
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{height - bar:.1f}" width="{max(slot - 2, 1):.1f}" height="{bar:.1f}" '
            f'fill="#90cdf4"><title>{escape(tip)}</title></rect>'
        )
        points.append((x + slot / 2, height - 2 - (height - 6) * share / top_share, tip))
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#e53e3e" stroke-width="1.5"/>')
    for x, y, tip in points:
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="#e53e3e"><title>{escape(tip)}</title></circle>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _freshness_cell(row: EndpointHealth) -> str:
    f = row.freshness
    expected = f" (every {_age(f.expected_every)})" if f.expected_every else ""
    if f.state == "never":
        return _badge("never landed", "none") + f'<span class="muted">{escape(expected)}</span>'
    kind = {"fresh": "ok", "late": "bad"}.get(f.state, "none")
    return _badge(f.state, kind) + f' <span class="muted">{_age(f.age)} old{escape(expected)}</span>'


def ingestion_section(rows: list[EndpointHealth], links: UiLinks) -> str:
    out = [
        '<h2 id="ingestion">Ingestion</h2>',
        '<table class="ingestion"><thead><tr><th>endpoint</th><th>last run</th><th>status</th>'
        '<th class="num">records</th><th class="num">new rows</th><th class="num">quarantined</th>'
        '<th>most common reason</th><th class="num">API calls</th><th>freshness</th>'
        "<th>records / quarantine share per day</th></tr></thead><tbody>",
    ]
    for row in rows:
        spec = row.spec
        name = _a(links.dag(spec.dag_id), f"{spec.source}.{spec.endpoint}")
        if row.run_id is None:
            last = '<span class="muted">—</span>'
        else:
            last = _a(links.task(spec.dag_id, row.run_id, "load_to_staging"), str(row.ingest_date))
            last += f'<br><span class="muted">{_when(row.finished_at)}</span>'
        reason = (
            f'{escape(row.top_reason)} <span class="muted">({row.top_reason_count:,})</span>'
            if row.top_reason
            else '<span class="muted">—</span>'
        )
        status = status_badge(row.status)
        if row.message and row.status not in _STATUS_KIND:
            status += f'<br><span class="muted">{escape(row.message[:200])}</span>'
        out.append(
            f'<tr data-endpoint="{escape(spec.source)}.{escape(spec.endpoint)}"><td>{name}</td><td>{last}</td>'
            f'<td>{status}</td><td class="num">{row.records:,}</td><td class="num">{row.new_rows:,}</td>'
            f'<td class="num">{row.quarantined:,}</td><td>{reason}</td><td class="num">{row.api_calls:,}</td>'
            f"<td>{_freshness_cell(row)}</td><td>{records_chart(row.days)}</td></tr>"
        )
    out.append("</tbody></table>")
    if not rows:
        out.append('<p class="muted">No endpoint is configured.</p>')
    return "".join(out)


def _calls_left(used: int, limit: int | None, left: int | None) -> str:
    if limit is None or left is None:
        return f'{used:,} <span class="muted">(no limit)</span>'
    kind = "bad" if left == 0 else ("warn" if left < limit * 0.1 else "ok")
    return f"{used:,} of {limit:,} " + _badge(f"{left:,} left", kind)


def budget_section(budgets: list[BudgetHealth]) -> str:
    """API calls per source against its call budget (the config's `budget:`), today and this month."""
    if not budgets:
        return ""
    out = [
        '<h3 id="budget">API call budget</h3>',
        '<table class="budget"><thead><tr><th>source</th><th>calls today (UTC)</th>'
        "<th>calls this month</th></tr></thead><tbody>",
    ]
    for row in budgets:
        b = row.budget
        out.append(
            f'<tr data-source="{escape(b.source)}"><td>{escape(b.source)}</td>'
            f"<td>{_calls_left(row.calls_today, b.calls_per_day, row.left_today)}</td>"
            f"<td>{_calls_left(row.calls_this_month, b.calls_per_month, row.left_this_month)}</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def _observed_vs_threshold(check: CheckOutcome) -> str:
    threshold = "" if check.threshold is None else f"{check.comparison or ''} {_number(check.threshold)}"
    return f'{_number(check.observed)}</td><td class="num">{escape(threshold.strip())}'


def _history_strip(history: list[CheckOutcome], links: UiLinks) -> str:
    cells = []
    for check in reversed(history):  # oldest left, like a chart
        colour = "#38a169" if check.passed else ("#e53e3e" if check.severity == "error" else "#dd6b20")
        tip = (
            f"{check.build_id}: {'passed' if check.passed else 'failed'}, observed {_number(check.observed)}"
        )
        href = links.task(TRANSFORM_DAG_ID, check.build_id, "quality_checks")
        cells.append(
            f'<a href="{escape(href)}" data-ui-link target="_top"><span style="background:{colour}" '
            f'title="{escape(tip)}"></span></a>'
        )
    return f'<span class="hist">{"".join(cells)}</span>'


def quality_section(quality: QualityHealth, links: UiLinks) -> str:
    out = ['<h2 id="quality">Quality gate</h2>']
    latest = quality.latest
    if latest is None:
        out.append('<p class="muted">No build has reached the quality gate yet.</p>')
        return "".join(out)
    kind = "ok" if latest.verdict == "passed" else "bad"
    passed = latest.checks_total - latest.failed_errors - latest.failed_warnings
    out.append(
        f'<div class="verdict box" id="gate-verdict">Latest build '
        f"{_a(links.task(TRANSFORM_DAG_ID, latest.build_id, 'quality_gate'), latest.build_id)}: "
        f"{_badge(latest.verdict.upper(), kind)} "
        f'<span class="muted">at {_when(latest.decided_at)} — {latest.checks_total} checks: {passed} passed, '
        f"{latest.failed_errors} error(s) failed, {latest.failed_warnings} warning(s)</span></div>"
    )
    if quality.not_passed:
        out.append(
            '<table class="checks"><thead><tr><th>check</th><th>severity</th><th>table</th>'
            '<th class="num">observed</th><th class="num">threshold</th><th>detail</th>'
            "<th>recent builds (oldest → newest)</th></tr></thead><tbody>"
        )
        for check in quality.not_passed:
            severity = _badge(check.severity, "bad" if check.severity == "error" else "warn")
            table = check.table + (f".{check.column}" if check.column else "")
            out.append(
                f'<tr data-check="{escape(check.check_id)}"><td><code>{escape(check.check_id)}</code></td>'
                f'<td>{severity}</td><td>{escape(table)}</td><td class="num">{_observed_vs_threshold(check)}</td>'
                f"<td>{escape(check.detail or '')}</td>"
                f"<td>{_history_strip(quality.history.get(check.check_id, []), links)}</td></tr>"
            )
        out.append("</tbody></table>")
    elif latest.verdict == "passed":
        out.append('<p class="muted">Every check of this build passed.</p>')
    else:  # the gate fails a build whose expected checks did not all produce a result
        out.append(
            "<p>No check failed, but the build's results are incomplete: some checks produced no result "
            f"(see its {_a(links.task(TRANSFORM_DAG_ID, latest.build_id, 'quality_checks'), 'quality_checks')} task).</p>"
        )
    if len(quality.recent_verdicts) > 1:
        out.append(
            '<details><summary>Recent verdicts</summary><table class="verdicts"><thead><tr><th>build</th>'
            '<th>verdict</th><th class="num">checks</th><th class="num">errors</th>'
            '<th class="num">warnings</th><th>decided</th></tr></thead><tbody>'
        )
        for v in quality.recent_verdicts:
            out.append(
                f"<tr><td>{_a(links.task(TRANSFORM_DAG_ID, v.build_id, 'quality_gate'), v.build_id)}</td>"
                f"<td>{_badge(v.verdict, 'ok' if v.verdict == 'passed' else 'bad')}</td>"
                f'<td class="num">{v.checks_total}</td><td class="num">{v.failed_errors}</td>'
                f'<td class="num">{v.failed_warnings}</td><td>{_when(v.decided_at)}</td></tr>'
            )
        out.append("</tbody></table></details>")
    return "".join(out)


def _promotion_link(row: PromotionRow, links: UiLinks) -> str:
    if not row.requested_by:
        return '<span class="muted">—</span>'
    if row.action == "promote":
        return _a(links.task(TRANSFORM_DAG_ID, row.requested_by, "promote_to_production"), row.requested_by)
    if row.action == "rollback":
        return _a(links.task(ROLLBACK_DAG_ID, row.requested_by, "rollback_to_previous"), row.requested_by)
    return escape(row.requested_by)


def production_section(production: ProductionHealth, links: UiLinks, rollback_allowed: bool) -> str:
    out = ['<h2 id="production">Production</h2>']
    if production.production_build is None:
        out.append('<p class="muted">Nothing has been promoted to production yet.</p>')
    else:
        current = production.current
        how = ""
        if current is not None:
            verb = "promoted" if current.action == "promote" else "rolled back to"
            how = f" — {verb} at {_when(current.promoted_at)} by run {_promotion_link(current, links)}"
        out.append(
            f'<div class="box" id="production-build">Production serves build '
            f"<strong>{escape(production.production_build)}</strong>{how}</div>"
        )
    if production.can_roll_back:
        if rollback_allowed:
            out.append(
                f'<p><a class="button" id="rollback" href="rollback">Roll back to build '
                f"{escape(production.previous_build or '')}…</a></p>"
            )
        else:
            out.append(
                '<p class="muted">A rollback to build '
                f"{escape(production.previous_build or '')} is possible, but your role may not trigger "
                f"<code>{ROLLBACK_DAG_ID}</code>.</p>"
            )
    elif production.audit_build is not None:
        out.append(
            f'<p class="muted">No rollback while build {escape(production.audit_build)} is being built '
            "(it recycles the previous build).</p>"
        )
    if production.history:
        out.append(
            '<table class="promotions"><thead><tr><th>when</th><th>action</th><th>build</th>'
            "<th>replaced</th><th>by run</th></tr></thead><tbody>"
        )
        for row in production.history:
            out.append(
                f"<tr><td>{_when(row.promoted_at)}</td><td>{escape(row.action)}</td>"
                f"<td>{escape(row.build_id)}</td><td>{escape(row.previous_build_id or '—')}</td>"
                f"<td>{_promotion_link(row, links)}</td></tr>"
            )
        out.append("</tbody></table>")
    return "".join(out)


def quarantine_section(quarantine: dict[tuple[str, str], list[QuarantinedRecord]], links: UiLinks) -> str:
    out = ['<h2 id="quarantine">Quarantine</h2>']
    if not quarantine:
        out.append('<p class="muted">No record has been quarantined.</p>')
        return "".join(out)
    out.append(
        '<table class="quarantine"><thead><tr><th>endpoint</th><th>record key</th><th>reasons</th>'
        "<th>S3 location</th><th>run</th><th>quarantined</th></tr></thead><tbody>"
    )
    for (source, endpoint), records in sorted(quarantine.items()):
        dag_id = f"ingest__{source}__{endpoint}"
        for record in records:
            reasons = "<br>".join(escape(r) for r in record.reasons)
            out.append(
                f'<tr data-endpoint="{escape(source)}.{escape(endpoint)}"><td>{escape(source)}.{escape(endpoint)}</td>'
                f"<td><code>{escape(record.record_key or '—')}</code></td><td>{reasons}</td>"
                f"<td><code>{escape(record.s3_uri)}</code></td>"
                f"<td>{_a(links.task(dag_id, record.run_id, 'load_to_staging'), str(record.ingest_date))}</td>"
                f"<td>{_when(record.quarantined_at)}</td></tr>"
            )
    out.append("</tbody></table>")
    return "".join(out)


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>'
        f"<body>{body}<script>{_UI_LINK_SCRIPT}</script></body></html>"
    )


def render_health_page(report: HealthReport, links: UiLinks, rollback_allowed: bool = False) -> str:
    body = (
        f"<h1>{PAGE_TITLE}</h1>"
        f'<p class="muted">Read from the warehouse at {_when(report.generated_at)}.</p>'
        '<nav><a href="#ingestion">Ingestion</a><a href="#quality">Quality gate</a>'
        '<a href="#production">Production</a><a href="#quarantine">Quarantine</a></nav>'
        + ingestion_section(report.endpoints, links)
        + budget_section(report.budgets)
        + quality_section(report.quality, links)
        + production_section(report.production, links, rollback_allowed)
        + quarantine_section(report.quarantine, links)
    )
    return page(PAGE_TITLE, body)


def render_rollback_confirmation(production: ProductionHealth, links: UiLinks, confirmation: str) -> str:
    """The confirmation step: what production serves, what it will serve, and a typed confirmation."""
    if not production.can_roll_back:
        body = (
            "<h1>Roll back production</h1><p>There is no build to roll back to right now.</p>"
            '<p><a class="button secondary" href="./">Back to Data health</a></p>'
        )
        return page("Roll back production", body)
    body = (
        "<h1>Roll back production</h1>"
        f'<div class="box">Production serves build <strong>{escape(production.production_build or "—")}</strong>. '
        f"Rolling back swaps build <strong>{escape(production.previous_build or '')}</strong> back in, in one "
        f"transaction, through the DAG {_a(links.dag(ROLLBACK_DAG_ID), ROLLBACK_DAG_ID)}.</div>"
        '<form method="post" action="rollback" id="rollback-form">'
        f'<input type="hidden" name="expected_build_id" value="{escape(production.previous_build or "")}">'
        f"<p><label>Type <code>{escape(confirmation)}</code> to confirm: "
        '<input type="text" name="confirm" id="confirm" autocomplete="off" required></label></p>'
        '<p><label>Reason (stored with the rollback): <input type="text" name="reason" id="reason"></label></p>'
        '<p><button type="submit" id="confirm-rollback">Roll back production</button> '
        '<a class="button secondary" href="./">Cancel</a></p></form>'
    )
    return page("Roll back production", body)


def render_rollback_result(ok: bool, message: str, links: UiLinks, run_id: str | None = None) -> str:
    run = f" Run: {_a(links.run(ROLLBACK_DAG_ID, run_id), run_id)}." if run_id else ""
    body = (
        f'<h1>Roll back production</h1><div class="box" id="rollback-result">'
        f"{_badge('triggered' if ok else 'refused', 'ok' if ok else 'bad')} {escape(message)}{run}</div>"
        '<p><a class="button secondary" href="./">Back to Data health</a></p>'
    )
    return page("Roll back production", body)

"""Alerts of the quality gate through an Airflow notifier: log (default), email (SMTP) or a Slack webhook.

Use as a task's `on_failure_callback` (the gate, the checks, the promotion) — the message then carries the
failure, which for the gate names each failed check with its observed value and threshold — or call it with
an explicit `message` (the gate's warnings). A notifier never prints a webhook URL or a password.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseNotifier

from game_market_pipeline.config.quality import AlertChannel, AlertSettings

log = logging.getLogger(__name__)


def _context_message(context: Any) -> str:
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = context.get("run_id") or getattr(ti, "run_id", "?")
    exception = context.get("exception")
    head = f"[game-market-pipeline] {dag_id}.{task_id} failed (run {run_id})"
    return f"{head}\n{exception}" if exception else head


def slack_webhook_url(connection: Any) -> str:
    """Webhook URL of an http connection: extra `webhook_url`, or host (with scheme) + password as path."""
    extra = connection.extra_dejson or {}
    if extra.get("webhook_url"):
        return str(extra["webhook_url"])
    host = (connection.host or "").rstrip("/")
    if not host:
        raise ValueError(f"connection {connection.conn_id!r} has no host (the Slack webhook URL)")
    if "://" not in host:
        host = f"{connection.schema or 'https'}://{host}"
    return f"{host}/{connection.password.lstrip('/')}" if connection.password else host


class QualityAlertNotifier(BaseNotifier):
    """Send a quality alert. `channel`: log | email | slack (see `AlertSettings`)."""

    template_fields = ("message", "subject")

    def __init__(
        self,
        *,
        channel: AlertChannel | str = AlertChannel.LOG,
        connection_id: str | None = None,
        email_to: Sequence[str] = (),
        message: str | None = None,
        subject: str = "[game-market-pipeline] data-quality alert",
        timeout_seconds: float = 10.0,
    ) -> None:
        super().__init__()
        self.channel = AlertChannel(channel)
        self.connection_id = connection_id
        self.email_to = tuple(email_to)
        self.message = message
        self.subject = subject
        self.timeout_seconds = timeout_seconds
        if self.channel != AlertChannel.LOG and not connection_id:
            raise ValueError(f"alert channel {self.channel} needs a connection_id")

    @classmethod
    def from_settings(cls, settings: AlertSettings, **overrides: Any) -> QualityAlertNotifier:
        kwargs: dict[str, Any] = {
            "channel": settings.channel,
            "connection_id": settings.connection_id,
            "email_to": settings.email_to,
        }
        return cls(**{**kwargs, **overrides})

    def with_message(self, message: str, subject: str | None = None) -> QualityAlertNotifier:
        return QualityAlertNotifier(
            channel=self.channel,
            connection_id=self.connection_id,
            email_to=self.email_to,
            message=message,
            subject=subject or self.subject,
            timeout_seconds=self.timeout_seconds,
        )

    def notify(self, context: Any) -> None:
        text = self.message or _context_message(context)
        if self.channel == AlertChannel.LOG:
            self.log.warning("%s\n%s", self.subject, text)
            return
        if self.channel == AlertChannel.SLACK:
            self._post_slack(text)
        else:
            self._send_email(text)
        self.log.info("quality alert sent via %s", self.channel)

    def _connection(self) -> Any:
        from airflow.sdk import BaseHook

        assert self.connection_id
        return BaseHook.get_connection(self.connection_id)

    def _post_slack(self, text: str) -> None:
        import requests

        url = slack_webhook_url(self._connection())
        response = requests.post(
            url, json={"text": f"*{self.subject}*\n```{text}```"}, timeout=self.timeout_seconds
        )
        if response.status_code >= 300:
            # The URL is a secret: report the status only.
            raise RuntimeError(f"Slack webhook answered HTTP {response.status_code}")

    def _send_email(self, text: str) -> None:
        import html

        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=self.connection_id or "smtp_default") as hook:
            hook.send_email_smtp(
                to=list(self.email_to), subject=self.subject, html_content=f"<pre>{html.escape(text)}</pre>"
            )

"""The alert notifier over its real channels: a webhook over HTTP and an SMTP server on loopback."""

from __future__ import annotations

import email
import json
import logging
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from game_market_pipeline.config.quality import AlertSettings
from game_market_pipeline.quality.notifier import QualityAlertNotifier, slack_webhook_url

FAILURE = "quality gate failed for build b1: 1 error check(s) failed\n  - fact_games.row_count [error] ..."


class _TI:
    dag_id, task_id, run_id = "transform_warehouse", "quality_gate", "scheduled__2026-01-02"


def _context():
    return {"ti": _TI(), "run_id": _TI.run_id, "exception": Exception(FAILURE)}


def test_log_channel_is_the_default_and_carries_the_failure(caplog, capsys):
    notifier = QualityAlertNotifier.from_settings(AlertSettings())
    with caplog.at_level(logging.WARNING):
        notifier(_context())  # the on_failure_callback call path (renders templates first)
    captured = capsys.readouterr()  # Airflow's task logger may write through structlog, not `logging`
    text = caplog.text + captured.out + captured.err
    assert "transform_warehouse.quality_gate failed (run scheduled__2026-01-02)" in text
    assert "fact_games.row_count [error]" in text


def test_slack_channel_posts_to_the_webhook_from_the_connection(monkeypatch):
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(
                {"path": self.path, "body": json.loads(self.rfile.read(int(self.headers["Content-Length"])))}
            )
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(
            "AIRFLOW_CONN_QUALITY_SLACK",
            json.dumps(
                {
                    "conn_type": "http",
                    "host": f"http://127.0.0.1:{server.server_port}/services",
                    "password": "T000/B000/secret",
                }
            ),
        )
        settings = AlertSettings(channel="slack", connection_id="quality_slack")
        QualityAlertNotifier.from_settings(settings).notify(_context())
    finally:
        server.shutdown()
    (request,) = received
    assert request["path"] == "/services/T000/B000/secret"
    assert "fact_games.row_count [error]" in request["body"]["text"]


def test_slack_error_status_is_reported_without_the_secret_url(monkeypatch):
    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(
            "AIRFLOW_CONN_QUALITY_SLACK",
            json.dumps(
                {
                    "conn_type": "http",
                    "host": f"http://127.0.0.1:{server.server_port}",
                    "password": "very-secret",
                }
            ),
        )
        notifier = QualityAlertNotifier(channel="slack", connection_id="quality_slack")
        with pytest.raises(RuntimeError) as err:
            notifier.notify(_context())
    finally:
        server.shutdown()
    assert "403" in str(err.value) and "very-secret" not in str(err.value)


def test_webhook_url_forms():
    class Conn:
        conn_id, schema, password, extra_dejson = "c", None, None, {}
        host = "https://hooks.example.test/services/T/B/X"

    assert slack_webhook_url(Conn()) == "https://hooks.example.test/services/T/B/X"
    Conn.extra_dejson = {"webhook_url": "https://elsewhere.test/hook"}
    assert slack_webhook_url(Conn()) == "https://elsewhere.test/hook"


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one message (no auth, no TLS)."""

    messages: list[str] = []

    def handle(self):
        self.wfile.write(b"220 sink ready\r\n")
        data, in_data = [], False
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace")
            if in_data:
                if line.rstrip("\r\n") == ".":
                    in_data = False
                    self.messages.append("".join(data))
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data.append(line)
                continue
            command = line[:4].upper()
            if command in ("EHLO", "HELO"):
                self.wfile.write(b"250 sink\r\n")
            elif command == "DATA":
                in_data = True
                self.wfile.write(b"354 go on\r\n")
            elif command == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_email_channel_sends_through_the_smtp_connection(monkeypatch):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _SmtpSink.messages = []
    try:
        monkeypatch.setenv(
            "AIRFLOW_CONN_QUALITY_SMTP",
            json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": server.server_address[1],
                    "extra": {"from_email": "airflow@example.test", "disable_ssl": True, "disable_tls": True},
                }
            ),
        )
        settings = AlertSettings(
            channel="email", connection_id="quality_smtp", email_to=("data@example.test",)
        )
        QualityAlertNotifier.from_settings(settings).notify(_context())
    finally:
        server.shutdown()
        server.server_close()
    (raw,) = _SmtpSink.messages
    message = email.message_from_string(raw)
    assert message["To"] == "data@example.test" and "data-quality alert" in message["Subject"]
    body = "".join(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/html"
    )
    assert "fact_games.row_count [error]" in body


def test_channels_need_their_settings():
    with pytest.raises(ValueError, match="needs `connection_id`"):
        AlertSettings(channel="slack")
    with pytest.raises(ValueError, match="needs `email_to`"):
        AlertSettings(channel="email", connection_id="smtp_default")

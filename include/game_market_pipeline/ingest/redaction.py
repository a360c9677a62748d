"""Keep API keys out of logs, S3, the database, XCom and error text.

RAWG echoes the caller's `key=` inside the `next` URL of every page, so every URL this package
stores or prints goes through `Redactor.url()` and every message through `Redactor.text()`. An API
may echo it inside a record's own data too (an image URL with `?key=`): every record's payload goes
through `Redactor.payload()` before it lands.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

REDACTED = "***"
_REDACTED_BYTES = REDACTED.encode()
# Query parameters that carry credentials on the APIs we call (and common others).
SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "token", "access_token", "password"})
_SECRET_PARAM_IN_TEXT = re.compile(r"(?i)\b(" + "|".join(sorted(SECRET_PARAMS)) + r")=([^&\s\"'#]+)")


class Redactor:
    def __init__(
        self, secrets: list[str] | tuple[str, ...] = (), secret_params: frozenset[str] = SECRET_PARAMS
    ):
        # Very short values would redact ordinary text; real keys are long.
        self.secrets = tuple(sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True))
        self.secret_params = secret_params
        # Each secret as it can appear inside canonical JSON: as is, JSON-escaped, percent-encoded.
        forms = {
            form.encode()
            for secret in self.secrets
            for form in (secret, json.dumps(secret, ensure_ascii=False)[1:-1], quote(secret, safe=""))
        }
        self._payload_forms = tuple(sorted(forms, key=len, reverse=True))

    def text(self, value: object) -> str:
        text = str(value)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _SECRET_PARAM_IN_TEXT.sub(lambda m: f"{m.group(1)}={REDACTED}", text)

    def payload(self, payload: bytes) -> bytes:
        """JSON bytes with every form of each secret replaced by `***`; the same object if none is there."""
        for form in self._payload_forms:
            if form in payload:
                payload = payload.replace(form, _REDACTED_BYTES)
        return payload

    def url(self, url: str) -> str:
        """The URL without any credential parameter at all (safe to store and to resume from)."""
        return strip_params(url, self.secret_params) if url else url


def strip_params(url: str, names: frozenset[str] | set[str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in names]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


class RedactingFilter(logging.Filter):
    """Rewrites log records so a key inside a URL (e.g. urllib3's debug lines) never reaches a handler."""

    def __init__(self, redactor: Redactor):
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = ()
        return True


def install_log_redaction(redactor: Redactor) -> None:
    for name in ("urllib3", "urllib3.connectionpool", "requests", "game_market_pipeline"):
        logger = logging.getLogger(name)
        logger.filters = [f for f in logger.filters if not isinstance(f, RedactingFilter)]
        logger.addFilter(RedactingFilter(redactor))

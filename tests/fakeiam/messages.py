"""A received request and the answer to it, independent of http.server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from . import errors


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # exactly as received, still percent-encoded, without the query
    query: str  # the raw query string, without "?"
    headers: dict[str, str]  # original names; values decoded as UTF-8
    body: bytes
    base_url: str  # how this server is reached, for "links" in bodies

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == lowered), None)

    def query_params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    def json(self) -> Any:
        """The body as JSON; IAM accepts only application/json bodies."""
        content_type = (self.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise errors.bad_request(f"Content-Type must be application/json, not {content_type or 'missing'}.")
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise errors.bad_request(f"The request body is not valid JSON: {exc}.") from exc


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_error(cls, error: errors.ApiError) -> Response:
        return cls(error.status, error.body, dict(error.headers))


# Marker answer: close the connection without writing anything.
DROP = Response(0)

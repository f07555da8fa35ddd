"""py-clob-client-v2's ClobClient with our own HTTP transport.

The SDK sends everything through one module-level ``httpx.Client`` with default
timeouts, turns every failure into ``PolyApiException`` and drops the response headers.
We need three things it cannot give: our timeout, ``Retry-After`` on 425/429, and
whether a failed request can have reached the venue (a refused connection cannot; a
read timeout can).  ``_get``/``_post``/``_delete`` are the SDK's own seams for the
transport, so overriding them leaves signing, headers and bodies untouched.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from py_clob_client_v2 import ClobClient
from py_clob_client_v2.exceptions import PolyApiException

from shared.http import excerpt, parse_retry_after

USER_AGENT = "polybot-executor"


class VenueHttpError(PolyApiException):
    """A non-200 answer (``status_code`` set) or no answer at all (``status_code`` None).

    ``reached_venue`` is False only when the request certainly never arrived (connection
    refused, connect timeout); ``retry_after_s`` comes from the Retry-After header.
    Never carries request headers (they hold the L2 HMAC and passphrase).
    """

    def __init__(self, status: int | None, message: str, *, reached_venue: bool = True,
                 retry_after_s: float | None = None):
        Exception.__init__(self, message)
        self.msg = message
        self.status_code = status
        self.error_msg = message
        self.reached_venue = reached_venue
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        return f"HTTP {self.status_code}: {self.error_msg}" if self.status_code else self.error_msg

    __repr__ = __str__


def error_text(resp: httpx.Response) -> str:
    """The venue's ``{"error": "..."}`` text, else a short excerpt of the body."""
    try:
        body = resp.json()
    except ValueError:
        return excerpt(resp.text) or f"HTTP {resp.status_code}"
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return excerpt(str(body))


class VenueClient(ClobClient):
    """ClobClient whose requests go through ``http`` (timeout and transport injectable)."""

    def __init__(self, host: str, chain_id: int, key: str, *, timeout_s: float,
                 signature_type: int | None = None, funder: str | None = None,
                 transport: httpx.BaseTransport | None = None):
        super().__init__(host=host, chain_id=chain_id, key=key, signature_type=signature_type,
                         funder=funder)
        self.http = httpx.Client(timeout=timeout_s, http2=transport is None, transport=transport)

    def close(self) -> None:
        self.http.close()

    def _get(self, endpoint: str, headers=None, params: dict | None = None):
        return self._request("GET", endpoint, headers, None, params)

    def _post(self, endpoint: str, headers=None, data=None, params: dict | None = None):
        return self._request("POST", endpoint, headers, data, params)

    def _delete(self, endpoint: str, headers=None, data=None, params: dict | None = None):
        return self._request("DELETE", endpoint, headers, data, params)

    def _resolve_transactions_hashes(self, response):
        # The SDK would poll /data/trades for up to 30 s to add settlement hashes to a
        # matched order's response; we never use them and cannot wait that long.
        return response

    def _request(self, method: str, url: str, headers: dict | None, data: Any, params: dict | None):
        headers = {**(headers or {}), "User-Agent": USER_AGENT, "Accept": "*/*",
                   "Content-Type": "application/json"}
        body = data.encode() if isinstance(data, str) else None
        try:
            resp = self.http.request(method, url, headers=headers, content=body,
                                     json=None if isinstance(data, str) else data, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise VenueHttpError(None, f"{method} {_path(url)}: {type(exc).__name__}",
                                 reached_venue=False) from None
        except httpx.TimeoutException as exc:
            raise VenueHttpError(None, f"{method} {_path(url)}: timeout ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise VenueHttpError(None, f"{method} {_path(url)}: {type(exc).__name__}") from None
        if resp.status_code != 200:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"), time.time())
            raise VenueHttpError(resp.status_code, error_text(resp), retry_after_s=retry_after)
        try:
            return resp.json()
        except ValueError:
            return resp.text


def _path(url: str) -> str:
    return httpx.URL(url).path

"""py-clob-client-v2's ClobClient with our own HTTP transport.

The SDK sends everything through one module-level ``httpx.Client`` with default
timeouts, turns every failure into ``PolyApiException`` and drops the response headers.
We need three things it cannot give: our timeout, ``Retry-After`` on 425/429, and
whether a failed request can have reached the venue (a refused connection cannot; a
read timeout can).  ``_get``/``_post``/``_delete`` are the SDK's own seams for the
transport, so overriding them leaves signing, headers and bodies untouched.

The transport is a urllib3 pool (``shared.http.connection_pool``: proxy and CA bundle
from the environment), not httpx: about 0.7 ms less CPU per request here, and the
order's POST is on the tick-to-order path.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
from py_clob_client_v2 import ClobClient
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.endpoints import GET_CLOB_MARKET
from urllib3.exceptions import ConnectTimeoutError, HTTPError as Urllib3Error, ReadTimeoutError

from shared.http import connection_pool, excerpt, parse_retry_after

USER_AGENT = "polybot-executor"
POOL_SIZE = 2  # the executor's loop and its reconciliation; one request at a time each


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


def error_text(status: int, body: bytes) -> str:
    """The venue's ``{"error": "..."}`` text, else a short excerpt of the body."""
    try:
        parsed = json.loads(body)
    except ValueError:  # also a body that is not UTF-8
        return excerpt(body.decode("utf-8", "replace")) or f"HTTP {status}"
    if isinstance(parsed, dict) and parsed.get("error"):
        return str(parsed["error"])
    return excerpt(str(parsed))


class VenueClient(ClobClient):
    """ClobClient whose requests go through ``http`` (a urllib3 pool; tests pass a fake)."""

    def __init__(self, host: str, chain_id: int, key: str, *, timeout_s: float,
                 signature_type: int | None = None, funder: str | None = None,
                 pool: urllib3.PoolManager | None = None):
        super().__init__(host=host, chain_id=chain_id, key=key, signature_type=signature_type,
                         funder=funder)
        self.http = pool if pool is not None else connection_pool(host, maxsize=POOL_SIZE)
        self.timeout = urllib3.Timeout(connect=timeout_s, read=timeout_s)

    def close(self) -> None:
        self.http.clear()

    def clob_market(self, condition_id: str):
        """``GET /clob-markets/{condition}``, without filling the SDK's per-token caches
        (``get_clob_market_info`` does, and they are never cleared)."""
        return self._get(f"{self.host}{GET_CLOB_MARKET}{condition_id}")

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
        if params:
            url += "?" + urlencode({key: _query_value(value) for key, value in params.items()})
        try:
            # retries=False: one request per call; the executor decides about retries,
            # after looking the order up (a retried POST could be a second order).
            resp = self.http.request(method, url, body=_body(data), headers=headers,
                                     timeout=self.timeout, retries=False)
        except ConnectTimeoutError as exc:  # also NewConnectionError (refused): never arrived
            raise VenueHttpError(None, f"{method} {_path(url)}: {type(exc).__name__}",
                                 reached_venue=False) from None
        except ReadTimeoutError as exc:
            raise VenueHttpError(None, f"{method} {_path(url)}: timeout ({type(exc).__name__})") from None
        except Urllib3Error as exc:
            raise VenueHttpError(None, f"{method} {_path(url)}: {type(exc).__name__}") from None
        if resp.status != 200:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"), time.time())
            raise VenueHttpError(resp.status, error_text(resp.status, resp.data), retry_after_s=retry_after)
        try:
            return json.loads(resp.data)
        except ValueError:
            return resp.data.decode("utf-8", "replace")


def _body(data: Any) -> bytes | None:
    """The SDK passes signed bodies already serialized (the L2 HMAC covers that exact
    string); anything else is encoded the way httpx's ``json=`` did."""
    if data is None:
        return None
    if isinstance(data, str):
        return data.encode()
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _query_value(value: Any) -> str:
    # httpx's rendering of query values, which the SDK was written against.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _path(url: str) -> str:
    return urlsplit(url).path

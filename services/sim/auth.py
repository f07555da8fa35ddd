"""CLOB authentication: L1 (EIP-712 ClobAuth → API credentials) and L2 (HMAC per request).

Credentials are a pure function of (address, nonce), so a bot that kept its credentials
from an earlier simulator run still authenticates. L2 follows py_clob_client_v2's
signing/hmac.py exactly: base64url(HMAC-SHA256(base64url_decode(secret),
timestamp + METHOD + path + body)), the path without the query string or the
simulator's ``/clob`` prefix, the body as sent with ' replaced by " (the client does
that too). Timestamps are not checked for freshness: the client signs with wall time,
which has nothing to do with sim time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import uuid
from dataclasses import dataclass

from services.sim.eip712 import clob_auth_digest, recover_signer

UNAUTHORIZED = "Unauthorized/Invalid api key"
INVALID_L1 = "Invalid L1 Request headers"
SUPPORTED_CHAINS = (137, 80002)


class AuthError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ApiCredentials:
    address: str  # checksummed EOA
    api_key: str
    secret: str  # base64url
    passphrase: str

    def as_json(self) -> dict:
        return {"apiKey": self.api_key, "secret": self.secret, "passphrase": self.passphrase}


def derive_credentials(address: str, nonce: int = 0) -> ApiCredentials:
    seed = f"polybot-sim-credentials:{address.lower()}:{nonce}".encode()
    key_bytes = bytearray(hashlib.sha256(seed + b":key").digest()[:16])
    key_bytes[6] = (key_bytes[6] & 0x0F) | 0x40  # shaped like the real uuid4 keys
    key_bytes[8] = (key_bytes[8] & 0x3F) | 0x80
    secret = base64.urlsafe_b64encode(hashlib.sha256(seed + b":secret").digest()).decode()
    passphrase = hashlib.sha256(seed + b":passphrase").hexdigest()
    return ApiCredentials(address, str(uuid.UUID(bytes=bytes(key_bytes))), secret, passphrase)


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    message = f"{timestamp}{method}{path}"
    if body:
        message += body.replace("'", '"')
    digest = hmac.new(base64.urlsafe_b64decode(secret), message.encode("utf-8"), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode("utf-8")


class Authenticator:
    def __init__(self):
        self._by_key: dict[str, ApiCredentials] = {}
        self._revoked: set[str] = set()
        self._lock = threading.Lock()

    def login(self, headers: dict[str, str]) -> ApiCredentials:
        """Check L1 headers (EIP-712 ClobAuth signature) and return the address's credentials."""
        address = headers.get("poly_address", "")
        signature = headers.get("poly_signature", "")
        timestamp = headers.get("poly_timestamp", "")
        try:
            nonce = int(headers.get("poly_nonce", "0") or 0)
            signer = self._l1_signer(address, timestamp, nonce, signature)
        except Exception:  # malformed hex, bad signature length, unrecoverable signature
            raise AuthError(INVALID_L1) from None
        if signer is None:
            raise AuthError(INVALID_L1)
        creds = derive_credentials(signer, nonce)
        with self._lock:
            self._by_key[creds.api_key] = creds
            self._revoked.discard(creds.api_key)
        return creds

    @staticmethod
    def _l1_signer(address: str, timestamp: str, nonce: int, signature: str) -> str | None:
        if not (address and timestamp and signature):
            return None
        for chain_id in SUPPORTED_CHAINS:
            digest = clob_auth_digest(address, timestamp, nonce, chain_id)
            signer = recover_signer(digest, signature)
            if signer.lower() == address.lower():
                return signer
        return None

    def verify(self, headers: dict[str, str], method: str, path: str, body: str) -> ApiCredentials:
        """Check the L2 headers of one request; the credentials it was signed with."""
        api_key = headers.get("poly_api_key", "")
        address = headers.get("poly_address", "")
        creds = self._by_key.get(api_key)
        if creds is None and address:
            derived = derive_credentials(address, 0)
            creds = derived if derived.api_key == api_key else None
        if creds is None or api_key in self._revoked:
            raise AuthError(UNAUTHORIZED)
        if (headers.get("poly_passphrase") != creds.passphrase
                or address.lower() != creds.address.lower()):
            raise AuthError(UNAUTHORIZED)
        timestamp = headers.get("poly_timestamp", "")
        expected = hmac_signature(creds.secret, timestamp, method, path, body)
        if not hmac.compare_digest(expected, headers.get("poly_signature", "")):
            raise AuthError(UNAUTHORIZED)
        return creds

    def revoke(self, api_key: str) -> None:
        with self._lock:
            self._revoked.add(api_key)

"""Access control: API keys with a role, checked per endpoint.

Clients send ``Authorization: Bearer pbk_…``. ``require("operator")`` accepts operator
and admin keys, ``require("admin")`` only admin keys; no key gives 401, a key without
the role gives 403. Lookups are cached for :data:`CACHE_SECONDS` (so a revoked key stops
working within that time) to keep the database off the hot vote-intake path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from engine.storage.apikey_store import ApiKey, ApiKeyStore

CACHE_SECONDS = 5.0

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An operator or admin API key (`pbcount apikey create --role operator|admin`).",
)


class KeyCache:
    """API keys looked up by their text, remembered for ``ttl`` seconds (thread-safe), so that
    a request does not read the store; a revoked key stops working within ``ttl``.
    """

    def __init__(self, keys: ApiKeyStore, ttl: float = CACHE_SECONDS) -> None:
        self.keys = keys
        self.ttl = ttl
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        self._lock = threading.Lock()

    def lookup(self, text: str) -> ApiKey | None:
        """The active key with this text, or None (unknown or revoked)."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(text)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        key = self.keys.lookup(text)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[text] = (now, key)
        return key


def require(role: str) -> Callable[..., Coroutine[Any, Any, ApiKey]]:
    """A FastAPI dependency returning the caller's key if it has ``role``."""

    async def dependency(
        request: Request, cred: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> ApiKey:
        if cred is None:
            raise ApiError(401, "unauthorized", f"this endpoint needs an {role} API key "
                           "(header 'Authorization: Bearer pbk_…')", headers={"WWW-Authenticate": "Bearer"})
        key = request.app.state.pb.key_cache.lookup(cred.credentials)
        if key is None:
            raise ApiError(401, "unauthorized", "unknown or revoked API key",
                           headers={"WWW-Authenticate": "Bearer"})
        if not key.allows(role):
            raise ApiError(403, "forbidden", f"this endpoint needs the {role} role; key {key.key_id} "
                           f"has the {key.role} role")
        return key

    return dependency


RequireOperator = Depends(require("operator"))
RequireAdmin = Depends(require("admin"))

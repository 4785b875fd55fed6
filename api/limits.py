"""Request size limits (ASGI middleware) and the vote-intake rate limiter (token bucket)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from api.errors import ApiError

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(Exception):
    pass


def _413_body(limit: int) -> bytes:
    return json.dumps({"error": {
        "code": "payload_too_large",
        "message": f"request body larger than {limit} bytes for this endpoint",
        "details": [],
    }}).encode()


class BodySizeLimit:
    """Refuse bodies over ``limit_for(path)`` bytes with 413.

    A declared ``Content-Length`` over the limit is refused before reading; a chunked body
    is counted as it streams and refused as soon as it crosses the limit.
    """

    def __init__(self, app: App, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await self._refuse(send, limit)
                    return
        seen = 0
        over = False  # the body crossed the limit: whatever the app answers becomes a 413
        replaced = False

        async def limited_receive() -> Message:
            nonlocal seen, over
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    over = True
                    raise _TooLarge
            return msg

        async def guarded_send(msg: Message) -> None:
            nonlocal replaced
            if not over:
                await send(msg)
            elif msg["type"] == "http.response.start" and not replaced:
                replaced = True
                await self._refuse(send, limit)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not replaced:
                await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        body = _413_body(limit)
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """Token bucket per client key: ``rate`` tokens per second, at most ``burst`` stored."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str, n: int = 1) -> None:
        """Consume ``n`` tokens or raise 429 with ``Retry-After``.

        A request larger than the burst (a big batch) is let through when the bucket is
        full and leaves it in debt, so the sustained rate still holds.
        """
        now = time.monotonic()
        with self._lock:
            level, last = self._buckets.get(client, (float(self.burst), now))
            level = min(float(self.burst), level + (now - last) * self.rate)
            need = min(n, self.burst)
            if level < need:
                wait = (need - level) / self.rate
                self._buckets[client] = (level, now)
                raise ApiError(429, "rate_limited", f"vote intake limited to {self.rate:g}/s per key; "
                               f"retry in {wait:.2f} s", headers={"Retry-After": str(max(1, round(wait + 0.5)))})
            self._buckets[client] = (level - n, now)

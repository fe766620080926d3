"""What keeps the workbench safe to run: an ASGI layer in front of every route.

- the Host header must name this machine (a DNS-rebinding page cannot reach the app under another name);
- a request that changes anything (any method but GET/HEAD) carries the per-session token in the
  ``X-Geotune-Token`` header, which only the workbench's own page can read, and an ``Origin``, when the
  browser sends one, that is the app's own: a cross-site form or script cannot write;
- request bodies are capped (``max_body`` bytes), read in full before the route runs, so an oversized
  body is refused with 413 before anything is parsed;
- responses forbid framing and sniffing, and scripts load only from the app itself.
"""

from __future__ import annotations

import hmac
import json

TOKEN_HEADER = "x-geotune-token"
SAFE_METHODS = {"GET", "HEAD"}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"),
]


class Guard:
    def __init__(self, app, token: str, allowed_hosts: set[str], max_body: int):
        self.app, self.token, self.allowed_hosts, self.max_body = app, token, allowed_hosts, int(max_body)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower()
        if host not in self.allowed_hosts:
            return await _refuse(send, 400, f"unknown host {host!r}: open the address the server printed")
        method = scope["method"].upper()
        if method not in SAFE_METHODS:
            if not hmac.compare_digest(headers.get(TOKEN_HEADER, ""), self.token):
                return await _refuse(send, 403, "missing or wrong session token: reload the workbench page")
            origin = headers.get("origin")
            if origin and origin != "null" and origin.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]").lower() \
                    not in self.allowed_hosts:
                return await _refuse(send, 403, f"cross-site request from {origin} refused")
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return await _refuse(send, 413, f"request body over {self.max_body} bytes")
        body, more = b"", True
        while more:  # read it all here: chunked bodies without a length are capped too
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                return await _refuse(send, 413, f"request body over {self.max_body} bytes")
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", [])) + SECURITY_HEADERS}
            await send(message)

        await self.app(scope, replay, with_headers)


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                + SECURITY_HEADERS})
    await send({"type": "http.response.body", "body": body})

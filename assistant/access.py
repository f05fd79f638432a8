"""Who may change the library and who may ask: the admin secret, the API's bearer token, shared addresses.

One module for every face, so the chat, the HTTP API and the CLI agree on the rules:

- a server is *shared* when it listens on anything but a loopback address (``0.0.0.0``,
  a ward network address, or no address at all, which Streamlit takes as every
  interface), or when ``Settings.shared`` says so (behind a reverse proxy on the same host);
- on a shared server, changing the library (upload, rebuild) needs the admin secret
  (``Settings.admin_secret_file``, or ``admin_secret`` from the environment);
- ``serve --token-file F`` makes every HTTP request carry ``Authorization: Bearer <token>``.

Secrets are compared with :func:`hmac.compare_digest` (the time taken does not say how
much of a guess was right) and never appear in a message.
"""

from __future__ import annotations

import hmac
import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import SettingsError
from assistant.settings import Settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_SECRET_CHARS = 16
MAKE_ONE = "make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str | None) -> bool:
    """Whether a listening address reaches only this computer (an empty address means every interface)."""
    name = (host or "").strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # empty (every interface), 0.0.0.0, a network address, or a name that may be any of them


def is_shared(settings: Settings, host: str | None) -> bool:
    """Whether people on other computers can reach a server listening on ``host``."""
    return settings.shared or not is_loopback(host)


def read_secret(path: Path, what: str) -> str:
    """The first line of a secret file, or a one-line :class:`SettingsError` (missing, empty, too short)."""
    try:
        with path.open(encoding="utf-8") as handle:
            secret = handle.readline().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise SettingsError(f"The {what} file {path} cannot be read ({reason}).") from None
    return _checked(secret, f"The {what} in {path}")


def _checked(secret: str, where: str) -> str:
    if len(secret) < MIN_SECRET_CHARS:
        raise SettingsError(f"{where} is shorter than {MIN_SECRET_CHARS} characters; {MAKE_ONE}.")
    return secret


def admin_secret(settings: Settings) -> str | None:
    """The configured admin secret (the file wins over the variable), or None when none is set."""
    if settings.admin_secret_file is not None:
        return read_secret(settings.admin_secret_file, "admin secret")
    if settings.admin_secret is not None:
        return _checked(settings.admin_secret.get_secret_value().strip(), "GUIDELINE_ASSISTANT_ADMIN_SECRET")
    return None


def api_token(settings: Settings) -> str | None:
    """The bearer token ``serve --token-file`` requires on every request, or None (no token asked)."""
    return read_secret(settings.api_token_file, "API token") if settings.api_token_file is not None else None


def matches(expected: str | None, given: str | None) -> bool:
    """``given`` is the secret: compared in constant time; nothing matches when no secret is configured."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def may_change_library(settings: Settings, host: str | None, given: str | None) -> bool:
    """On this computer only, anyone may; on a shared server only the holder of the admin secret."""
    return not is_shared(settings, host) or matches(admin_secret(settings), given)


TOKEN_NEEDED = "This server needs a token: send the header 'Authorization: Bearer <token>'."


class BearerToken:
    """ASGI middleware for ``serve --token-file``: every request (``/health`` and ``/docs`` too) needs the token.

    Checked before the body is read, compared in constant time; a missing or wrong token is a 401
    that says what to send, never which part was wrong. A load balancer sends the header like any client.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        if matches(self.token, bearer(header)):
            await self.app(scope, receive, send)
            return
        from starlette.responses import JSONResponse

        refusal = JSONResponse(
            {"detail": TOKEN_NEEDED}, status_code=401, headers={"WWW-Authenticate": "Bearer", "Connection": "close"}
        )
        await refusal(scope, _disconnected, send)


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}

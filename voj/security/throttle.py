"""Login throttling: failed sign-ins counted per username and per client address, in the
shared security state, for the API and the operator console alike.

Each attempt is counted *before* the password is checked and uncounted when it succeeds, so
concurrent attempts on several containers cannot all slip under the limit; a success clears
the username's count. A count is forgotten VOJ_LOGIN_FAILURE_WINDOW_SECONDS after its last
failure, so no more than the limit of failures fit in any such window.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from rest_framework import exceptions

from . import get_security_state
from .state import state_key


class LoginThrottled(exceptions.Throttled):
    """Too many failed sign-ins: 429 with Retry-After (the API's exception handler)."""

    default_detail = "Too many failed sign-ins."
    extra_detail_singular = "Try again in {wait} second."
    extra_detail_plural = "Try again in {wait} seconds."
    # Set by DRF's Throttled (seconds, rounded up); its stubs leave the attribute out.
    wait: int | None


def client_address(request: HttpRequest | None) -> str | None:
    """The address the request came from, as API Gateway saw it.

    On Lambda, Zappa derives REMOTE_ADDR from X-Forwarded-For (its second-to-last entry), which
    a client can write into on a regional endpoint; the event's requestContext holds the
    source address API Gateway itself saw. Off Lambda, REMOTE_ADDR is the socket's peer.
    X-Forwarded-For is never read.
    """
    if request is None:
        return None
    event = request.META.get("lambda.event")
    if event is not None:
        context = event.get("requestContext") or {}
        source = (context.get("identity") or {}).get("sourceIp") or (context.get("http") or {}).get(
            "sourceIp"
        )
        return _grouped(source) if source else "unknown"
    address = request.META.get("REMOTE_ADDR")
    return _grouped(address) if address else None


def _grouped(address: str) -> str:
    """One IPv6 client holds a whole /64, so it is counted as one."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def username_key(username: str) -> str:
    return state_key("login-user", username)


def address_key(address: str) -> str:
    return state_key("login-addr", address)


@dataclass(frozen=True)
class LoginAttempt:
    username: str
    address: str | None


def login_attempt_begin(request: HttpRequest | None, username: str) -> LoginAttempt:
    """Count the attempt as a failure until it succeeds; raise LoginThrottled over a limit."""
    state = get_security_state()
    window = settings.VOJ_LOGIN_FAILURE_WINDOW_SECONDS
    attempt = LoginAttempt(username=username, address=client_address(request))
    wait = state.take(
        username_key(username),
        limit=settings.VOJ_LOGIN_FAILURES_PER_USERNAME,
        window_seconds=window,
        subject=f"username {username[:150]}",
    )
    if wait is not None:
        raise LoginThrottled(wait=wait)
    if attempt.address is not None:
        wait = state.take(
            address_key(attempt.address),
            limit=settings.VOJ_LOGIN_FAILURES_PER_ADDRESS,
            window_seconds=window,
            subject=f"address {attempt.address}",
        )
        if wait is not None:
            state.give_back(username_key(username))  # this attempt never reached a password
            raise LoginThrottled(wait=wait)
    return attempt


def login_attempt_succeeded(attempt: LoginAttempt) -> None:
    state = get_security_state()
    state.clear(username_key(attempt.username))
    if attempt.address is not None:
        state.give_back(address_key(attempt.address))


def login_unlock(*, username: str | None = None, address: str | None = None) -> None:
    """Forget the failures counted for a username and/or a client address."""
    state = get_security_state()
    if username is not None:
        state.clear(username_key(username))
    if address is not None:
        state.clear(address_key(_grouped(address)))


def login_failures(*, username: str | None = None, address: str | None = None) -> int:
    state = get_security_state()
    if username is not None:
        return state.count(username_key(username))
    return state.count(address_key(_grouped(address or "")))

"""Where the lab may send requests: this machine by default, anywhere else only on request.

An endpoint is judged by the host the HTTP client will connect to. botocore and
``requests`` both connect through urllib3, whose URL parser does not always agree
with :func:`urllib.parse.urlparse` (``http://203.0.113.5\\@127.0.0.1`` is 127.0.0.1 to
one and 203.0.113.5 to the other), so an endpoint the two could read differently is
refused before anything is sent.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from .errors import LabSafetyError

#: ``endpoint_url`` value that means AWS's own endpoints, with your real credentials.
REAL_AWS = "aws"

#: Schemes botocore and requests speak; anything else has no meaning as an endpoint.
SCHEMES = ("http", "https")


def ambiguity(endpoint_url: str) -> str | None:
    """Why ``endpoint_url`` could reach a different host than it appears to, or None if it cannot."""
    if any(not ("!" <= char <= "~") for char in endpoint_url):
        return "it contains whitespace, a control character or a non-ASCII character"
    if "\\" in endpoint_url:
        return "it contains a backslash, which URL parsers read differently"
    if "@" in endpoint_url:
        return "it contains '@' (userinfo), which can hide the real host"
    parsed = urlparse(endpoint_url)
    if parsed.scheme.lower() not in SCHEMES:
        return f"its scheme is {parsed.scheme!r}; only http and https are endpoints"
    try:
        client = parse_url(endpoint_url)
        port = parsed.port  # raises for a port that is not a number in 0-65535
    except (LocationParseError, ValueError):
        return "the HTTP client cannot parse it"
    if not parsed.hostname:
        return "it names no host"
    if _bare(client.host) != parsed.hostname or client.port != port:
        return (
            f"the HTTP client would connect to {client.host}:{client.port}, "
            f"not {parsed.hostname}:{port}"
        )
    return None


def _bare(host: str | None) -> str | None:
    """urllib3's host as urlparse spells it: lower case, IPv6 without brackets."""
    if host is None:
        return None
    return host.lower().removeprefix("[").removesuffix("]")


def is_local(endpoint_url: str) -> bool:
    """True when the URL unambiguously names this machine: localhost, 127.0.0.0/8 or ::1."""
    if ambiguity(endpoint_url) is not None:
        return False  # the host we would check is not necessarily the host we would reach
    host = urlparse(endpoint_url).hostname
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost could resolve anywhere


def check_endpoint(endpoint_url: str | None, allow_remote: bool) -> None:
    """Refuse an ambiguous endpoint always, and one off this machine unless ``allow_remote``."""
    if endpoint_url is None:
        return
    if endpoint_url == REAL_AWS:
        if not allow_remote:
            raise LabSafetyError(
                "Lab(endpoint_url='aws') would use your real AWS account and credentials. "
                "Opt in explicitly with Lab(endpoint_url='aws', allow_remote=True); "
                "nothing was sent."
            )
        return
    reason = ambiguity(endpoint_url)
    if reason is not None:
        # Refused even with allow_remote: the opt-in is for a host you named, not one a parser picks.
        raise LabSafetyError(
            f"{endpoint_url!r} is ambiguous: {reason}. An endpoint must be a plain "
            "http(s)://host:port URL that every URL parser reads the same way; nothing was sent."
        )
    if not allow_remote and not is_local(endpoint_url):
        raise LabSafetyError(
            f"{endpoint_url!r} is not on this machine (only localhost, 127.0.0.0/8 and ::1 are). "
            "Pass allow_remote=True to use it anyway; nothing was sent."
        )

"""Where the lab may send requests: this machine by default, anywhere else only on request."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse

from .errors import LabSafetyError

#: ``endpoint_url`` value that means AWS's own endpoints, with your real credentials.
REAL_AWS = "aws"


def is_local(endpoint_url: str) -> bool:
    """True when the URL's host is this machine: localhost, 127.0.0.0/8 or ::1."""
    host = urlparse(endpoint_url).hostname
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost could resolve anywhere


def check_endpoint(endpoint_url: str | None, allow_remote: bool) -> None:
    """Refuse any endpoint off this machine unless the caller opted in with ``allow_remote``."""
    if endpoint_url is None or allow_remote:
        return
    if endpoint_url == REAL_AWS:
        raise LabSafetyError(
            "Lab(endpoint_url='aws') would use your real AWS account and credentials. "
            "Opt in explicitly with Lab(endpoint_url='aws', allow_remote=True); "
            "nothing was sent."
        )
    if not is_local(endpoint_url):
        raise LabSafetyError(
            f"{endpoint_url!r} is not on this machine (only localhost, 127.0.0.0/8 and ::1 are). "
            "Pass allow_remote=True to use it anyway; nothing was sent."
        )

"""Fetching addresses that someone typed in, without reaching the inside of the network.

A calendar feed (or any URL the coach pastes) could point at 127.0.0.1, the cloud
metadata service, or a database on the private network, directly or through a
redirect, or through a name that resolves differently a second later. So the check
happens where the socket is opened, on every connection urllib makes, redirects
included: the host is resolved once, every address it resolves to must be public,
and the socket connects to exactly the address that was checked.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from typing import Any

from django.conf import settings

BLOCKED_MESSAGE = (
    "The address leads to a private, local or reserved network address, "
    "which the site does not fetch."
)


class BlockedAddress(OSError):
    """The host resolves to an address outside the public internet."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _public_connection(
    address: tuple[str, int], timeout: Any = None, source: Any = None
) -> socket.socket:
    host, port = address
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allow_private = settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES
    if not allow_private and not all(is_public(str(info[4][0])) for info in found):
        raise BlockedAddress(BLOCKED_MESSAGE)
    last_error: OSError = BlockedAddress(BLOCKED_MESSAGE)
    for family, kind, proto, _name, sockaddr in found:
        sock = socket.socket(family, kind, proto)
        try:
            if isinstance(timeout, int | float):  # else http.client's "use the default"
                sock.settimeout(timeout)
            if source:
                sock.bind(source)
            sock.connect(sockaddr)  # the checked address, not a second lookup
            return sock
        except OSError as error:
            sock.close()
            last_error = error
    raise last_error


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    # TLS still verifies the certificate against the host name (SNI), as usual.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: Any) -> Any:
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: Any) -> Any:
        return self.do_open(_PublicHTTPSConnection, req, context=getattr(self, "_context", None))


def public_opener(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    """A urllib opener whose every connection, redirects included, reaches only public
    addresses. Proxies from the environment are not used: the proxy's own address would
    be the one checked, and it would fetch anything."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _PublicHTTPHandler, _PublicHTTPSHandler, *handlers
    )

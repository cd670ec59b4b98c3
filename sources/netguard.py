"""Refuse to fetch from private networks: the guard against feeds that point inside ours (SSRF).

A feed URL, or any redirect hop, whose host resolves to a loopback, private, link-local,
shared (CGNAT), multicast, unspecified or otherwise reserved address is refused, on IPv4 and
IPv6 (IPv4 addresses embedded in IPv6 ones included), as is any scheme but http and https.
``STORYWATCH_ALLOW_PRIVATE_NETWORKS=true`` lifts the address check (tests and benchmarks
serve feeds on loopback); it is read at each check, never cached.

The check resolves the name itself and refuses if *any* address is not public, because the
connection may use any of them. It runs twice: before each request (:class:`GuardedTransport`,
which gives the clear early refusal), and where the connection is made
(:class:`GuardedBackend`, httpcore's network backend), which resolves the name once, checks
those addresses and connects to the one it checked. A DNS server that answers a public address
for the first look and a private one for the connection (rebinding) is refused there. TLS still
names the host (SNI) and the Host header is unchanged: only the address is pinned.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from storywatch.sources.errors import ConnectError, FetchError, PrivateAddressRefused
from storywatch.sources.urls import WEB_SCHEMES

ALLOW_PRIVATE_NETWORKS_ENV = "STORYWATCH_ALLOW_PRIVATE_NETWORKS"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_TRUE = frozenset({"1", "true", "yes", "on"})


def private_networks_allowed() -> bool:
    """Whether ``STORYWATCH_ALLOW_PRIVATE_NETWORKS`` is set to true right now."""
    return os.environ.get(ALLOW_PRIVATE_NETWORKS_ENV, "").strip().lower() in _TRUE


def address_problem(address: IPAddress) -> str | None:
    """Why an address is not fetched from ("a private address", ...), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # the socket connects to the IPv4 address itself
            return address_problem(address.ipv4_mapped)
        if address in _NAT64_PREFIX:  # a NAT64 gateway connects to the embedded IPv4 address
            return address_problem(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        tunnelled = address.sixtofour or (address.teredo[1] if address.teredo else None)
        inner = address_problem(tunnelled) if tunnelled is not None else None
        if inner is not None:
            return f"a tunnel to {inner} ({tunnelled})"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return "a shared (CGNAT) address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "a non-public address"
    return None


def _parse_address(text: str) -> IPAddress | None:
    """An IP address from a host or a resolved address (scope ids dropped), or None for a name."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _target(url: httpx.URL) -> tuple[str, int]:
    """Check the scheme and return (host, port) of a URL."""
    if url.scheme not in WEB_SCHEMES:
        raise FetchError(f"refused {url}: only http and https URLs can be fetched, not {url.scheme or 'no scheme'}")
    if not url.host:
        raise FetchError(f"refused {url}: the URL has no host")
    return url.host.lower(), url.port or (443 if url.scheme == "https" else 80)


def _refuse_non_public(url: httpx.URL, host: str, addresses: Iterable[str]) -> None:
    """Raise PrivateAddressRefused if any address is not public."""
    for text in addresses:
        address = _parse_address(text)
        if address is None:  # getaddrinfo gives numeric addresses; anything else is not trusted
            raise PrivateAddressRefused(f"refused {url}: {host} resolves to {text!r}, which is not an IP address")
        problem = address_problem(address)
        if problem is not None:
            where = f"{address} is" if host == str(address) else f"host resolves to {address},"
            raise PrivateAddressRefused(
                f"refused {url}: {where} {problem}; set {ALLOW_PRIVATE_NETWORKS_ENV}=true to allow private networks"
            )


async def resolve(host: str, port: int) -> list[str]:
    """The addresses a name resolves to (numeric strings), as the connection would use them."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _needs_address_check(host: str, allowed_hosts: frozenset[str]) -> bool:
    return host not in allowed_hosts and not private_networks_allowed()


def _resolution_failed(url: httpx.URL, host: str, exc: OSError) -> ConnectError:
    return ConnectError(f"cannot resolve {host} for {url}: {exc}; check the address or try again later")


def check_url(url: str | httpx.URL, *, allowed_hosts: Iterable[str] = ()) -> None:
    """Raise FetchError unless the URL is http(s) and its host resolves only to public addresses.

    A literal IP is checked without any traffic; a name is resolved with the system resolver.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(f"refused {url}: not a valid URL ({exc})") from exc
    host, port = _target(parsed)
    if not _needs_address_check(host, frozenset(h.lower() for h in allowed_hosts)):
        return
    literal = _parse_address(host)
    if literal is not None:
        _refuse_non_public(parsed, host, [str(literal)])
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise _resolution_failed(parsed, host, exc) from exc
    _refuse_non_public(parsed, host, [str(info[4][0]) for info in infos])


class GuardedTransport(httpx.AsyncBaseTransport):
    """Wraps an async transport; checks each request's scheme and resolved addresses before sending it.

    httpx calls the transport once per redirect hop, so every hop is checked. ``allowed_hosts``
    (names or literal IPs) skip the address check: tests use it to reach 127.0.0.1 only.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport, *, allowed_hosts: Iterable[str] = ()) -> None:
        self._transport = transport
        self._allowed_hosts = frozenset(h.lower() for h in allowed_hosts)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Refuse a request to a non-public address, or pass it to the wrapped transport."""
        await self._check(request.url)
        return await self._transport.handle_async_request(request)

    async def _check(self, url: httpx.URL) -> None:
        host, port = _target(url)
        if not _needs_address_check(host, self._allowed_hosts):
            return
        literal = _parse_address(host)
        if literal is not None:
            _refuse_non_public(url, host, [str(literal)])
            return
        try:
            addresses = await resolve(host, port)
        except OSError as exc:
            raise _resolution_failed(url, host, exc) from exc
        _refuse_non_public(url, host, addresses)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._transport.aclose()


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address check where the socket is opened.

    ``connect_tcp`` resolves the host once, refuses it unless every address is public, and
    connects to the first checked address: the address used is the address checked.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend, *, allowed_hosts: Iterable[str] = ()) -> None:
        self._inner = inner
        self._allowed_hosts = frozenset(h.lower() for h in allowed_hosts)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        name = host.lower().strip("[]")
        url = httpx.URL(scheme="http", host=name, port=port)
        literal = _parse_address(name)
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = await resolve(name, port)
            except OSError as exc:
                raise _resolution_failed(url, name, exc) from exc
            if not addresses:
                raise ConnectError(f"cannot resolve {name}: no address; check the address or try again later")
        if _needs_address_check(name, self._allowed_hosts):
            _refuse_non_public(url, name, addresses)
        return await self._inner.connect_tcp(
            addresses[0], port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise PrivateAddressRefused(
            f"refused a connection to the local socket {path}: storywatch fetches over TCP only"
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_http_transport(
    *, limits: httpx.Limits | None = None, allowed_hosts: Iterable[str] = ()
) -> httpx.AsyncHTTPTransport:
    """httpx's own transport, its connections opened through :class:`GuardedBackend`."""
    transport = httpx.AsyncHTTPTransport(limits=limits or httpx.Limits())
    pool = transport._pool  # httpx builds the pool; its network backend is the one seam it leaves
    pool._network_backend = GuardedBackend(pool._network_backend, allowed_hosts=allowed_hosts)
    return transport

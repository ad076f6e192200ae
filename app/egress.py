"""Egress policy: where this server may connect on a tenant's behalf (external service requests, live database checks).

A destination is resolved first and every address it resolves to must be public: loopback, private, link-local
(cloud metadata at 169.254.169.254), shared (CGNAT), multicast, reserved and unspecified addresses are refused,
unless the operator lists a network in SPECGEN_EGRESS_ALLOW (comma-separated, e.g. `10.1.0.0/16,127.0.0.1`).
The connection then goes to the checked address, so a name cannot resolve differently a moment later (DNS
rebinding). Every refusal and every failure to connect reads the same, so answers cannot map a network.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

UNREACHABLE = "the destination cannot be reached from this service"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """A destination the policy refuses, or one that could not be connected to."""

    def __init__(self) -> None:
        super().__init__(UNREACHABLE)


@dataclass(frozen=True)
class Egress:
    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_environment(cls) -> Egress:
        return cls.allowing(*os.environ.get("SPECGEN_EGRESS_ALLOW", "").split(","))

    @classmethod
    def allowing(cls, *networks: str) -> Egress:
        return cls(tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()))

    def permits(self, address: Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed):
            return True
        return address.is_global and not address.is_multicast

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`: all of them permitted, or Refused."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
        except (OSError, UnicodeError, ValueError):
            raise Refused() from None
        if not addresses or not all(self.permits(ipaddress.ip_address(a)) for a in addresses):
            raise Refused()
        return addresses


class _CheckedBackend(httpcore.SyncBackend):
    """httpcore's TCP connect, to an address the policy checked (TLS still verifies the host's name)."""

    def __init__(self, egress: Egress):
        self.egress = egress

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        for address in self.egress.resolve(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue
        raise Refused()


class CheckedTransport(httpx.HTTPTransport):
    """An httpx transport whose every connection obeys `egress`; no proxy from the environment, no redirects."""

    def __init__(self, egress: Egress):
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                             network_backend=_CheckedBackend(egress))

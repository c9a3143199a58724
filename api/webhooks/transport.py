"""The one outbound HTTP request of a delivery, safe to point at a URL a customer typed.

- The host is resolved here and every address checked *before* connecting; the request
  then goes to the checked address (Host header and TLS SNI keep the name), so a DNS
  answer that changes between the check and the connect (rebinding) cannot reach inside.
- Private, loopback, link-local, reserved and multicast addresses are refused unless
  ``allow_private`` (a setting; the tests turn it on for their loopback receiver).
- Tight connect and read timeouts; redirects are never followed (a 3xx is a failed
  attempt); at most 64 KiB of the answer is read.

A refusal is not an exception: it is a failed attempt with its reason, like a timeout.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError

USER_AGENT = "Touchbase-Webhooks/1"
READ_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Attempt:
    """What one attempt came to: the HTTP status, or why there was none."""

    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def refused_address(address: str) -> str | None:
    """Why an address may not be called, or None when it is a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for what, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved or ip.is_unspecified),
        ("not public", not ip.is_global),
    ):
        if flag:
            return (
                f"{address} is a {what} address" if what != "not public" else f"{address} is {what}"
            )
    return None


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    connect_timeout: float,
    read_timeout: float,
    allow_private: bool = False,
) -> Attempt:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Attempt(None, f"Refused: {url!r} is not an http(s) URL.")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        return Attempt(None, f"Could not resolve {host}: {exc}")
    if not addresses:
        return Attempt(None, f"Could not resolve {host}.")
    if not allow_private:
        for address in addresses:
            why = refused_address(address)
            if why is not None:
                return Attempt(None, f"Refused: {host} resolves to {why} (SSRF protection).")
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    common = {"port": port, "timeout": timeout, "retries": False, "maxsize": 1}
    if parts.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            addresses[0], server_hostname=host, assert_hostname=host, **common
        )
    else:
        pool = urllib3.HTTPConnectionPool(addresses[0], **common)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    sent = {
        **headers,
        "Host": parts.netloc.rsplit("@", 1)[-1],
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    try:
        with pool:
            answer = pool.urlopen(
                "POST",
                path,
                body=body,
                headers=sent,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                answer.read(READ_LIMIT)
            finally:
                answer.release_conn()
    except (HTTPError, OSError) as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}"[:500])
    if 300 <= answer.status < 400:
        where = answer.headers.get("Location", "")
        return Attempt(answer.status, f"Redirect to {where!r} not followed."[:500])
    if not 200 <= answer.status < 300:
        return Attempt(answer.status, f"The endpoint answered {answer.status}.")
    return Attempt(answer.status)

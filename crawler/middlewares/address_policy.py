"""What the crawl may reach: no loopback, private, link-local, multicast or reserved addresses, HTTP(S) only.

The URLs a crawl fetches come from strangers (feed items, sitemap entries, Reddit link posts, forum posts,
redirects). Without a policy a link to ``http://169.254.169.254/`` (a cloud machine's metadata service),
``http://127.0.0.1:6379/`` (a local Redis) or ``http://10.0.0.5/admin`` would be fetched and its answer
could land in the published dataset as an "article".

:class:`AddressPolicyMiddleware` (downloader middleware, order 50: before robots.txt, retries and redirects)
checks every request, including each redirect hop (a redirect is a new request through the whole chain),
robots.txt fetches and comment API pages:

1. the scheme must be ``http`` or ``https`` (``file:``, ``ftp:``, ``data:``, ``s3:`` … are refused);
2. the host is an IP literal, or it is resolved (``getaddrinfo``, IPv4 and IPv6, cached for
   ``ADDRESS_POLICY_DNS_TTL`` seconds); **every** address it resolves to must be public. IPv4-mapped
   (``::ffff:a.b.c.d``), 6to4 (``2002::/16``) and NAT64 (``64:ff9b::/96``) IPv6 addresses are judged by the
   IPv4 address they carry; Teredo (inside ``2001::/23``) is refused. The IANA special-purpose blocks are
   listed in ``SPECIAL`` (Python's own tables differ between versions). Odd IPv4 spellings (``2130706433``, ``0x7f.1``, ``127.1``)
   are resolved by the system like any name, so they are judged by the address they really mean;
3. :class:`RemoteAddressCheckMiddleware` (order 960, next to the downloader) checks the address the response
   actually came from (``Response.ip_address``), which catches a name that resolved to a public address for
   the check and to a private one for the connection (DNS rebinding). Such a response is discarded before any
   other component (WARC capture included) sees it.

Explicit allowances only: ``PRIVATE_NETWORK_ALLOW`` is a list of ``host:port`` entries (that host name or IP
literal on that port, whatever it resolves to) and CIDR blocks / single addresses (any port, judged on the
resolved and the remote address). It is empty by default. The demo spider adds its own server, ``-a
base_override=`` its origins (:func:`allow_origins`); no allowance is ever derived from a URL found in a page
or an API answer.

A host that cannot be resolved is let through (counted ``address_policy/unresolved``): the download fails
with Scrapy's own DNS error and retry behaviour, and should the connection's own resolution reach an address,
the remote-address check judges it.

Refusals raise ``IgnoreRequest`` (no retry), are logged with the reason and counted
``address_policy/refused`` and ``address_policy/refused/<reason>`` with reason one of ``scheme``,
``loopback``, ``private``, ``link_local``, ``multicast``, ``reserved``, ``unspecified``, ``no_host``;
remote-address refusals ``address_policy/refused/remote/<reason>``. Allowed private targets count
``address_policy/allowed_private``. ``ADDRESS_POLICY_ENABLED = False`` switches both off (never do that for
a crawl of live sites).
"""
from __future__ import annotations

import ipaddress
import logging
import socket
import time
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
SETTING = "PRIVATE_NETWORK_ALLOW"
IP = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# The IANA special-purpose registries (IPv4 and IPv6) as this policy reads them, checked before Python's own
# flags (whose tables differ between Python versions: 3.11 calls 192.0.0.8 or fec0::1 global).
SPECIAL = [(ipaddress.ip_network(n), why) for n, why in (
    ("0.0.0.0/32", "unspecified"), ("0.0.0.0/8", "reserved"), ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "private"), ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link_local"),
    ("172.16.0.0/12", "private"), ("192.0.0.0/24", "private"), ("192.0.2.0/24", "reserved"),
    ("192.31.196.0/24", "reserved"), ("192.52.193.0/24", "reserved"), ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"), ("192.175.48.0/24", "reserved"), ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"), ("203.0.113.0/24", "reserved"), ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"), ("::1/128", "loopback"), ("::/96", "reserved"), ("64:ff9b:1::/48", "private"),
    ("100::/64", "reserved"), ("2001::/23", "reserved"), ("2001:db8::/32", "reserved"), ("3fff::/20", "reserved"),
    ("5f00::/16", "reserved"), ("fc00::/7", "private"), ("fe80::/10", "link_local"), ("fec0::/10", "private"),
    ("ff00::/8", "multicast"),
)]


@lru_cache(maxsize=4096)  # pure, asked for every request and response: a crawl meets few hosts
def address_class(ip: IP) -> str | None:
    """Why an address may not be reached (``loopback``, ``private``, ``link_local``, ``multicast``,
    ``reserved``, ``unspecified``), or None for a public (globally routable) address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return address_class(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return address_class(ip.sixtofour)
        if ip in NAT64:
            return address_class(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.scope_id:
            return "link_local"
    for net, why in SPECIAL:
        if ip.version == net.version and ip in net:
            return why
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


@lru_cache(maxsize=4096)  # pure, asked for every request and response: a crawl meets few hosts
def parse_ip(host: str) -> IP | None:
    """An IP literal host (brackets and IPv6 zone ids accepted), or None for a name."""
    h = host.strip("[]")
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        return None


@dataclass(frozen=True)
class Allowance:
    """``PRIVATE_NETWORK_ALLOW`` parsed: (host, port) pairs and networks."""

    origins: frozenset = frozenset()
    networks: tuple = ()

    @classmethod
    def parse(cls, entries) -> "Allowance":
        if isinstance(entries, str):
            entries = [e for e in entries.replace(";", ",").split(",")]
        origins, networks = set(), []
        for raw in entries or ():
            e = str(raw).strip()
            if not e:
                continue
            if "/" in e or parse_ip(e) is not None and not e.startswith("["):
                try:
                    networks.append(ipaddress.ip_network(e, strict=False))
                except ValueError:
                    raise ValueError(f"{SETTING}: {e!r} is neither host:port nor a CIDR block") from None
                continue
            host, sep, port = e.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{SETTING}: {e!r} must be host:port (e.g. 127.0.0.1:8080, [::1]:8080) "
                                 "or a CIDR block (e.g. 10.0.0.0/8)")
            origins.add((_norm_host(host), int(port)))
        return cls(frozenset(origins), tuple(networks))

    def allows_origin(self, host: str, port: int) -> bool:
        return (_norm_host(host), port) in self.origins

    def allows_address(self, ip: IP) -> bool:
        plain = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
        return any(plain.version == n.version and plain in n for n in self.networks)

    def __bool__(self) -> bool:
        return bool(self.origins or self.networks)


@lru_cache(maxsize=4096)  # pure, asked for every request and response: a crawl meets few hosts
def _norm_host(host: str) -> str:
    h = host.strip().strip("[]").lower().rstrip(".")
    ip = parse_ip(h)
    return str(ip) if ip is not None else h


@dataclass
class Decision:
    allowed: bool
    reason: str  # "public", "allowed_origin", "allowed_network", or the refusal reason
    address: str | None = None

    def __bool__(self) -> bool:
        return self.allowed


def url_target(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL; port None when the URL's port is unusable."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, host, port


def decide(url: str, addresses: list | None, allow: Allowance = Allowance()) -> Decision:
    """The policy as a pure function: may ``url`` be fetched when its host resolves to ``addresses``?

    ``addresses`` is ignored for IP-literal hosts (the literal is the address); None means "not resolved"
    (then only the scheme and an IP literal are judged)."""
    scheme, host, port = url_target(url)
    if scheme not in ALLOWED_SCHEMES:
        return Decision(False, "scheme")
    if not host or port is None:
        return Decision(False, "no_host")
    if allow.allows_origin(host, port):
        return Decision(True, "allowed_origin")
    literal = parse_ip(host)
    addrs = [literal] if literal is not None else [a if not isinstance(a, str) else ipaddress.ip_address(a)
                                                   for a in (addresses or [])]
    allowed_private = False
    for ip in addrs:
        why = address_class(ip)
        if why is None:
            continue
        if allow.allows_address(ip):
            allowed_private = True
            continue
        return Decision(False, why, str(ip))
    return Decision(True, "allowed_network" if allowed_private else "public")


def decide_remote(ip, allow: Allowance = Allowance(), origin_allowed: bool = False) -> Decision:
    """May a response that came from ``ip`` be used?"""
    if origin_allowed:
        return Decision(True, "allowed_origin")
    if isinstance(ip, str):
        ip = parse_ip(ip)
    why = address_class(ip)
    if why is None:
        return Decision(True, "public")
    if allow.allows_address(ip):
        return Decision(True, "allowed_network")
    return Decision(False, why, str(ip))


def allow_origins(settings, origins) -> None:
    """Add ``http://host:port`` origins (or host:port entries) to ``PRIVATE_NETWORK_ALLOW`` of (still writable)
    settings: used by spiders for servers the operator named (demo server, ``base_override``), never for URLs
    learned from pages."""
    current = settings.get(SETTING) or []
    current = [e for e in (current.split(",") if isinstance(current, str) else current) if str(e).strip()]
    for o in origins:
        if "://" in o:
            scheme, host, port = url_target(o)
            if not host or port is None:
                continue
            o = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if o not in current:
            current.append(o)
    from scrapy.settings import SETTINGS_PRIORITIES

    # merged into what the operator set (e.g. -s PRIVATE_NETWORK_ALLOW=... on the command line), never replacing it
    priority = max(settings.getpriority(SETTING) or 0, SETTINGS_PRIORITIES["spider"])
    settings.set(SETTING, current, priority=priority)


def resolve(host: str, port: int) -> list[IP]:
    """Every address ``host`` resolves to (IPv4 and IPv6); [] when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    out = []
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            try:
                out.append(ipaddress.ip_address(sockaddr[0].split("%", 1)[0]))
            except ValueError:
                continue
    return out


@dataclass
class _Cache:
    ttl: float
    entries: dict = field(default_factory=dict)

    def get(self, host: str):
        hit = self.entries.get(host)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        return None

    def put(self, host: str, addrs: list) -> None:
        if len(self.entries) > 10_000:
            self.entries.clear()
        self.entries[host] = (time.monotonic(), addrs)


def _inert(spider) -> bool:
    """A WARC replay answers every request from its files: nothing goes to the network."""
    return getattr(spider, "warc_index", None) is not None


class AddressPolicyMiddleware:
    def __init__(self, crawler, allow: Allowance, ttl: float):
        self.crawler, self.stats = crawler, crawler.stats
        self.allow = allow
        self.cache = _Cache(ttl)

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("ADDRESS_POLICY_ENABLED", True):
            raise NotConfigured
        allow = Allowance.parse(s.getlist(SETTING) if not isinstance(s.get(SETTING), str) else s.get(SETTING))
        if allow and cls is AddressPolicyMiddleware:
            logger.info("address policy: private addresses allowed only for %s",
                        ", ".join(sorted(f"{h}:{p}" for h, p in allow.origins) + [str(n) for n in allow.networks]))
        crawler.address_allowance = allow
        return cls(crawler, allow, s.getfloat("ADDRESS_POLICY_DNS_TTL", 60.0))

    def _refuse(self, request, decision: Decision, prefix: str = "") -> None:
        self.stats.inc_value("address_policy/refused")
        self.stats.inc_value(f"address_policy/refused/{prefix}{decision.reason}")
        logger.warning("address policy: refused %s (%s%s%s)", request.url, prefix, decision.reason,
                       f", {decision.address}" if decision.address else "")
        raise IgnoreRequest(f"address policy: {prefix}{decision.reason} {decision.address or ''}".strip())

    async def process_request(self, request, spider=None):
        if _inert(spider or getattr(self.crawler, "spider", None)):
            return None
        scheme, host, port = url_target(request.url)
        addrs = None
        if scheme in ALLOWED_SCHEMES and host and port is not None and parse_ip(host) is None \
                and not self.allow.allows_origin(host, port):
            addrs = self.cache.get(host.lower())
            if addrs is None:
                addrs = await maybe_deferred_to_future(deferToThread(resolve, host, port))
                self.cache.put(host.lower(), addrs)
            if not addrs:
                self.stats.inc_value("address_policy/unresolved")
        decision = decide(request.url, addrs, self.allow)
        if not decision:
            self._refuse(request, decision)
        request.meta["address_policy"] = decision.reason
        if decision.reason != "public":
            self.stats.inc_value("address_policy/allowed_private")
        return None


class RemoteAddressCheckMiddleware(AddressPolicyMiddleware):
    """The response side: the address the connection really went to (``Response.ip_address``)."""

    async def process_request(self, request, spider=None):  # the request side is the other class's job
        return None

    def process_response(self, request, response, spider=None):
        ip = getattr(response, "ip_address", None)
        if ip is None or _inert(spider or getattr(self.crawler, "spider", None)) or request.meta.get("proxy"):
            return response  # not from a direct connection (replay, cache, proxy): nothing to judge
        scheme, host, port = url_target(request.url)
        decision = decide_remote(ip, self.allow, origin_allowed=bool(port) and self.allow.allows_origin(host, port))
        if not decision:
            self._refuse(request, decision, prefix="remote/")
        return response

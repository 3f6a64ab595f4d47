"""The address policy (crawler/middlewares/address_policy.py): URLs learned from pages, APIs and redirects that
point at other local addresses are refused with their reason, and the servers listening there receive nothing.

Real crawls: the fault server on 127.0.0.1 (allowed explicitly, as tests' settings must) serves a feed, a
sitemap, a sitemap index, a Reddit link post and redirects whose targets are "victim" servers on 127.0.0.2
and on ``[::1]``. Every other range (private, link-local, metadata, reserved, IPv4-mapped IPv6, …) is judged
on the decision function only: no traffic ever leaves 127.0.0.0/8 and ::1.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import quote

import pytest

from crawler.middlewares.address_policy import Allowance, address_class, decide, decide_remote, resolve

from .conftest import run_crawl
from .server import FaultServer


def _v6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def victims():
    out = [FaultServer(host="127.0.0.2").start()]
    if _v6_loopback():
        out.append(FaultServer(host="::1").start())
    yield out
    for v in out:
        v.stop()


@pytest.fixture(scope="module")
def policy_run(tmp_path_factory, fault_server, victims):
    srv = fault_server
    targets = []
    for v in victims:
        targets += [f"{v.base}/a/stolen-feed", f"{v.base}/a/stolen-sitemap", f"{v.base}/a/stolen-index.xml",
                    f"{v.base}/a/stolen-redirect", f"{v.base}/a/stolen-reddit"]
    v4 = victims[0]
    odd = f"http://2130706434:{v4.port}/a/stolen-decimal"  # 127.0.0.2 written as one number
    urls = []
    for v in victims:
        urls += [f"{srv.base}/policy/feed?to={quote(v.base + '/a/stolen-feed')}&to={quote('file:///etc/passwd')}"
                 f"&to={quote('ftp://127.0.0.1/x')}",
                 f"{srv.base}/policy/sitemap?to={quote(v.base + '/a/stolen-sitemap')}",
                 f"{srv.base}/policy/sitemap-index?to={quote(v.base + '/a/stolen-index.xml')}",
                 f"{srv.base}/policy/redirect?to={quote(v.base + '/a/stolen-redirect')}",
                 f"{srv.base}/r/policy/comments/pol1/look.json?to={quote(v.base + '/a/stolen-reddit')}"]
    urls += [f"{srv.base}/policy/redirect?status=301&to={quote(odd)}",
             f"{srv.base}/policy/redirect?to={quote('gopher://127.0.0.1:70/x')}",
             f"{srv.base}/a/policy-plain-allowed"]
    run = run_crawl(tmp_path_factory.mktemp("policy"), urls=urls)
    return run, victims, targets


def test_victim_servers_receive_nothing(policy_run):
    run, victims, _ = policy_run
    for v in victims:
        assert v.hits == [], f"{v.base} was reached: {[h.path for h in v.hits]}"


def test_every_route_to_another_loopback_address_is_refused_with_its_reason(policy_run):
    run, victims, targets = policy_run
    for t in targets:
        assert f"address policy: refused {t} (loopback" in run.log, t
    assert run.stat("address_policy/refused/loopback") >= len(targets) + 1  # + the decimal spelling
    assert "address policy: refused http://2130706434:" in run.log


def test_non_http_schemes_refused(policy_run):
    run, _, _ = policy_run
    assert run.stat("address_policy/refused/scheme") >= 2
    assert "refused file:///etc/passwd (scheme)" in run.log and "refused ftp://127.0.0.1/x (scheme)" in run.log
    assert "Ignoring response <302" in run.log  # a redirect to gopher: is not followed at all (Scrapy)


def test_allowed_origin_still_works_and_exit_0(policy_run):
    run, _, _ = policy_run
    urls = run.urls("articles")
    assert any(u.endswith("/a/policy-plain-allowed") for u in urls)
    assert any(u.endswith("/a/policy-feed-own") for u in urls)
    assert any(u.endswith("/a/policy-sitemap-own") for u in urls)
    assert not any("stolen" in u for u in urls)
    assert run.stat("address_policy/allowed_private") > 0
    assert run.returncode == 0, run.log[-2000:]


def test_refusals_counted_in_total(policy_run):
    run, _, _ = policy_run
    parts = sum(v for k, v in run.stats_with("address_policy/refused/").items())
    assert run.stat("address_policy/refused") == parts


def test_no_allowance_means_even_the_fault_server_is_refused(tmp_path, fault_server):
    """The default is empty: a crawl of 127.0.0.1 without an explicit allowance fetches nothing."""
    before = len(fault_server.hits)
    run = run_crawl(tmp_path, urls=[f"{fault_server.base}/a/no-allowance"], settings={"PRIVATE_NETWORK_ALLOW": ""})
    assert run.stat("address_policy/refused/loopback") >= 1
    assert not run.rows("articles")
    assert not [h for h in fault_server.hits[before:] if "no-allowance" in h.path]


def test_bad_allowance_entry_fails_the_start(tmp_path, fault_server):
    run = run_crawl(tmp_path, urls=[f"{fault_server.base}/a/x"], settings={"PRIVATE_NETWORK_ALLOW": "localhost"})
    assert run.returncode == 2  # a usage error, one line, before anything starts
    assert "PRIVATE_NETWORK_ALLOW" in run.log and "Traceback" not in run.log


# -- the decision function: every other range, nothing sent -------------------------------------------------
REFUSED = [
    ("http://169.254.169.254/latest/meta-data/", "link_local"),  # cloud metadata
    ("http://[fd00:ec2::254]/latest/meta-data/", "private"),  # AWS IPv6 metadata
    ("http://100.100.100.200/latest/meta-data/", "private"),  # carrier-grade NAT range (a metadata service)
    ("http://10.0.0.5/admin", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://172.31.255.254/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://127.0.0.1:6379/", "loopback"),  # a local Redis
    ("http://127.255.255.254/", "loopback"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://224.0.0.251/", "multicast"),
    ("http://239.255.255.250:1900/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
    ("http://192.0.0.8/", "private"),  # IETF protocol assignments (Python 3.11 calls it global)
    ("http://192.0.0.170/", "private"),
    ("http://192.0.2.1/", "reserved"),  # documentation
    ("http://192.88.99.1/", "reserved"),  # 6to4 relay anycast (deprecated)
    ("http://198.18.0.1/", "reserved"),  # benchmarking
    ("http://0.1.2.3/", "reserved"),  # "this network"
    ("http://[fec0::1]/", "private"),  # site-local (deprecated)
    ("http://[64:ff9b:1::1]/", "private"),  # local-use NAT64
    ("http://[3fff::1]/", "reserved"),  # documentation (2024)
    ("http://[::1]/", "loopback"),
    ("http://[::]/", "unspecified"),
    ("http://[fe80::1]/", "link_local"),
    ("http://[fc00::1]/", "private"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped
    ("http://[::ffff:169.254.169.254]/", "link_local"),
    ("http://[::ffff:10.1.2.3]/", "private"),
    ("http://[::ffff:7f00:1]/", "loopback"),  # the same, hex-written
    ("http://[64:ff9b::a9fe:a9fe]/", "link_local"),  # NAT64 of 169.254.169.254
    ("http://[2002:a9fe:a9fe::1]/", "link_local"),  # 6to4 of 169.254.169.254
    ("http://[2002:7f00:1::]/", "loopback"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "reserved"),  # Teredo
    ("http://[2001:db8::1]/", "reserved"),  # documentation
    ("http://[100::1]/", "reserved"),  # discard-only
    ("http://[::127.0.0.1]/", "reserved"),  # IPv4-compatible (deprecated)
    ("https://192.168.0.1:8443/", "private"),
]


@pytest.mark.parametrize("url,reason", REFUSED, ids=[u for u, _ in REFUSED])
def test_private_ranges_refused_on_the_decision_function(url, reason):
    d = decide(url, None)
    assert not d and d.reason == reason


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "data:text/html,hi",
                                 "s3://bucket/key", "gopher://example.com/", "javascript:alert(1)",
                                 "ws://example.com/", "mailto:a@example.com"])
def test_non_http_schemes_refused_on_the_decision_function(url):
    d = decide(url, [ipaddress.ip_address("93.184.216.34")])
    assert not d and d.reason == "scheme"


@pytest.mark.parametrize("addrs,reason", [
    (["93.184.216.34", "10.0.0.1"], "private"),  # one private answer among public ones: refused
    (["2606:4700::1111", "::1"], "loopback"),
    (["169.254.169.254"], "link_local"),
    (["::ffff:192.168.0.1"], "private"),
])
def test_a_name_is_judged_by_every_address_it_resolves_to(addrs, reason):
    d = decide("https://news.example.com/story", [ipaddress.ip_address(a) for a in addrs])
    assert not d and d.reason == reason


@pytest.mark.parametrize("url,addrs", [
    ("https://news.example.com/a", ["93.184.216.34"]),
    ("https://news.example.com/a", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]),
    ("http://8.8.8.8/", None),
    ("http://[2606:4700:4700::1111]/", None),
    ("https://NEWS.example.com:8443/a", ["1.1.1.1"]),
])
def test_public_addresses_allowed(url, addrs):
    assert decide(url, [ipaddress.ip_address(a) for a in addrs] if addrs else None)


@pytest.mark.parametrize("spelling", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1"])
def test_odd_ipv4_spellings_resolve_to_what_they_mean(spelling):
    """Numeric host forms are resolved locally (no DNS query) to the address they really name."""
    addrs = resolve(spelling, 80)
    assert ipaddress.ip_address("127.0.0.1") in addrs
    assert not decide(f"http://{spelling}/", addrs)


def test_allowance_host_port_is_exact():
    allow = Allowance.parse("127.0.0.1:8080,[::1]:9090,localhost:7070")
    assert decide("http://127.0.0.1:8080/x", None, allow).reason == "allowed_origin"
    assert not decide("http://127.0.0.1:8081/x", None, allow)
    assert not decide("http://127.0.0.2:8080/x", None, allow)
    assert decide("http://[::1]:9090/", None, allow)
    assert not decide("http://[::1]:9091/", None, allow)
    assert decide("http://LOCALHOST:7070/", [ipaddress.ip_address("127.0.0.1")], allow)
    assert not decide("http://localhost:7071/", [ipaddress.ip_address("127.0.0.1")], allow)
    assert not decide("https://127.0.0.1/", None, allow)  # port 443 is not 8080


def test_allowance_cidr():
    allow = Allowance.parse(["10.0.0.0/8", "::1", "fd00::/8"])
    assert decide("http://10.2.3.4:81/", None, allow).reason == "allowed_network"
    assert decide("http://[::ffff:10.2.3.4]/", None, allow)  # the mapped form of an allowed address
    assert not decide("http://192.168.0.1/", None, allow)
    assert not decide("http://169.254.169.254/", None, allow)
    assert decide("http://[::1]:5/", None, allow)
    assert decide("http://[fd12::1]/", None, allow)
    assert not decide("http://[fe80::1]/", None, allow)
    assert decide("https://intranet.example/", [ipaddress.ip_address("10.9.9.9")], allow)
    assert not decide("https://mixed.example/", [ipaddress.ip_address("10.9.9.9"),
                                                 ipaddress.ip_address("192.168.1.1")], allow)


@pytest.mark.parametrize("entry", ["localhost", "10.0.0.0/33", "host:99999", "host:", ":80", "[::1]", "a:b"])
def test_bad_allowance_entries_rejected(entry):
    with pytest.raises(ValueError):
        Allowance.parse(entry)


def test_empty_allowance_by_default():
    from crawler import settings

    assert settings.PRIVATE_NETWORK_ALLOW == []
    assert not Allowance.parse(settings.PRIVATE_NETWORK_ALLOW)


@pytest.mark.parametrize("ip,allow,origin,ok", [
    ("93.184.216.34", "", False, True),
    ("127.0.0.1", "", False, False),
    ("127.0.0.1", "", True, True),  # an allowed host:port
    ("10.0.0.7", "10.0.0.0/24", False, True),
    ("10.0.1.7", "10.0.0.0/24", False, False),
    ("::ffff:169.254.169.254", "", False, False),
])
def test_remote_address_check(ip, allow, origin, ok):
    assert bool(decide_remote(ipaddress.ip_address(ip), Allowance.parse(allow), origin_allowed=origin)) is ok


def test_address_classes():
    assert address_class(ipaddress.ip_address("1.1.1.1")) is None
    assert address_class(ipaddress.ip_address("169.254.0.1")) == "link_local"
    assert address_class(ipaddress.ip_address("fe80::1%1")) == "link_local"

"""What WARC capture never writes down: credentials. A capture can be shared; the secrets it was made with stay home.

Redacted in every record (the value is replaced with ``[redacted]``; the name stays, so a reader sees *that*
a credential was sent):

* request headers ``Authorization`` and ``Proxy-Authorization`` (the scheme word is kept: ``Bearer
  [redacted]``, ``Basic [redacted]``), ``Cookie``, and API-key style headers (:data:`SECRET_HEADERS`);
* response headers ``Set-Cookie`` (session cookies) and the same API-key headers;
* query parameters that carry a secret (:data:`SECRET_PARAMS`: ``api_key``, ``access_token``,
  ``client_secret``, …) in ``WARC-Target-URI``, the request line and any URL-valued header
  (``Location``, ``Referer``);
* token request bodies: form-encoded or JSON request bodies have the values of secret fields (``password``,
  ``client_secret``, ``refresh_token``, ``code``, ``assertion``, … see :data:`SECRET_FIELDS`) replaced;
* token responses: a JSON response body with ``access_token`` / ``refresh_token`` / ``id_token`` has those
  values replaced (the payload digest is that of the stored, redacted body).

Replay matches URLs with their secret parameters redacted (:func:`redact_url`), so a redacted capture still
replays.
"""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"
AUTH_HEADERS = {"authorization", "proxy-authorization"}
COOKIE_HEADERS = {"cookie", "set-cookie", "set-cookie2"}
SECRET_HEADERS = {"x-api-key", "api-key", "x-auth-token", "x-access-token", "x-csrf-token", "x-xsrf-token",
                  "x-amz-security-token", "x-goog-api-key", "x-token", "private-token"}
URL_HEADERS = {"location", "content-location", "referer", "link"}
SECRET_PARAMS = {"api_key", "apikey", "api_secret", "access_token", "refresh_token", "id_token", "token",
                 "auth", "auth_token", "client_secret", "password", "passwd", "secret", "session", "sessionid",
                 "sig", "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "code"}
SECRET_FIELDS = SECRET_PARAMS | {"client_assertion", "assertion", "otp", "totp", "username_password",
                                 "private_key"}
TOKEN_RESPONSE_FIELDS = {"access_token", "refresh_token", "id_token", "token", "session_token"}


def _secret_name(name: str, names: set) -> bool:
    return name.strip().lower() in names


def redact_query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_secret_name(k, SECRET_PARAMS) for k, _ in pairs):
        return query
    return urlencode([(k, REDACTED if _secret_name(k, SECRET_PARAMS) else v) for k, v in pairs])


def redact_url(url: str) -> str:
    """The URL with the values of secret query parameters replaced (and any user:password@ removed)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    query = redact_query(parts.query)
    if query == parts.query and netloc == parts.netloc:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_header(name: str, value: str, *, response: bool = False) -> str:
    low = name.strip().lower()
    if low in AUTH_HEADERS:
        scheme, _, rest = value.strip().partition(" ")
        return f"{scheme} {REDACTED}" if rest else REDACTED
    if low in COOKIE_HEADERS or low in SECRET_HEADERS:
        return REDACTED
    if low in URL_HEADERS:
        return re.sub(r"[^\s<>,;\"]+", lambda m: redact_url(m.group(0)) if "?" in m.group(0) or "@" in m.group(0)
                      else m.group(0), value)
    return value


def redact_headers(headers: list[tuple[str, str]], *, response: bool = False) -> list[tuple[str, str]]:
    return [(k, redact_header(k, v, response=response)) for k, v in headers]


def _redact_json(data, fields: set):
    if isinstance(data, dict):
        return {k: (REDACTED if isinstance(k, str) and _secret_name(k, fields) and v not in (None, "")
                    else _redact_json(v, fields)) for k, v in data.items()}
    if isinstance(data, list):
        return [_redact_json(v, fields) for v in data]
    return data


def redact_request_body(body: bytes, content_type: str = "") -> bytes:
    """A token request's secrets (form-encoded or JSON fields) replaced; other bodies unchanged."""
    if not body:
        return body
    ctype = content_type.lower()
    text = body.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if "json" in ctype or stripped[:1] in "{[":
        try:
            data = json.loads(text)
        except ValueError:
            pass
        else:
            redacted = _redact_json(data, SECRET_FIELDS)
            return body if redacted == data else json.dumps(redacted).encode()
    if "form-urlencoded" in ctype or ("=" in text and " " not in text.strip()):
        pairs = parse_qsl(text, keep_blank_values=True)
        if any(_secret_name(k, SECRET_FIELDS) for k, _ in pairs):
            return urlencode([(k, REDACTED if _secret_name(k, SECRET_FIELDS) else v) for k, v in pairs]).encode()
    return body


def redact_response_body(body: bytes, content_type: str = "", content_encoding: str = "") -> bytes:
    """A token response (JSON with access/refresh/id tokens) with those values replaced. Compressed bodies
    are left as they are unless they are token responses too small to matter (decoded first)."""
    if not body or b"token" not in body[:65536] and not content_encoding:
        return body
    if content_encoding and content_encoding.lower() not in ("identity", ""):
        return body  # compressed: see redact_compressed_response
    if "json" not in content_type.lower() and body.lstrip()[:1] not in (b"{", b"["):
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not _has_token_field(data):
        return body
    return json.dumps(_redact_json(data, TOKEN_RESPONSE_FIELDS)).encode()


def _has_token_field(data, depth: int = 0) -> bool:
    if depth > 3:
        return False
    if isinstance(data, dict):
        return any(isinstance(k, str) and k.lower() in TOKEN_RESPONSE_FIELDS for k in data) or \
            any(_has_token_field(v, depth + 1) for v in data.values() if isinstance(v, (dict, list)))
    if isinstance(data, list):
        return any(_has_token_field(v, depth + 1) for v in data[:5])
    return False

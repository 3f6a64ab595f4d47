"""Extra demo-site routes contributed by other modules (forum, embeds, ...).

Each route is ``route(site, host, path, query, base) -> (status, body_str, content_type, headers) | None``
and is asked before the built-in WordPress routes. ``host`` is the request's host name without port,
``query`` the parsed query string (dict of lists), ``base`` the scheme://host:port of the request.
To add one: write it in its own module and append it to EXTRA_ROUTES below.
"""
from __future__ import annotations

EXTRA_ROUTES: list = []
# Routes that need the whole request (method, headers, body: OAuth, POST forms) take
# ``route(site, req: DemoRequest) -> (status, body str|bytes, content_type, headers) | None`` and are asked first.
REQUEST_ROUTES: list = []

from .forum import forum_route  # noqa: E402  (Discourse, Disqus, Reddit and SMF threads; see forum.py)

EXTRA_ROUTES.append(forum_route)

from .apis import api_route  # noqa: E402  (Reddit-style OAuth API and HN-style API; see apis.py)

REQUEST_ROUTES.append(api_route)

"""Whether a request that changes something was sent by one of this site's own pages.

The CSRF token is the forms' defence; where the request came from is a second one. A browser says it
twice: `Sec-Fetch-Site` (which no page can forge, and which holds behind a proxy that rewrites the Host)
and `Origin` (or `Referer`), compared here with the Host the app sees. Scripts and older browsers may
send neither: then nothing is known.
"""

from urllib.parse import urlsplit

from flask import abort, request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Blueprints that do not take cookies (the API: tokens) or check this themselves (the dashboard).
CHECKED_ELSEWHERE = frozenset({"api", "rq_dashboard"})


def from_this_site() -> bool | None:
    """Return True when the browser says this page sent the request, False when another site did
    (or an opaque origin, "null"), None when the request says nothing about it."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site in ("same-origin", "none")  # "none": the person typed or bookmarked it
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return None
    here, there = urlsplit(request.host_url), urlsplit(source)
    return (here.scheme, here.netloc) == (there.scheme, there.netloc)


def refuse_cross_site_forms():
    """Refuse a form (a cookie-carrying POST, PUT, PATCH or DELETE) that another site sent."""
    if request.method in SAFE_METHODS or request.blueprint in CHECKED_ELSEWHERE:
        return None
    if from_this_site() is False:
        abort(403, description="The form was sent from another site. Open the page on this site and send it again.")
    return None

"""/metrics: the Prometheus text format, for staff tokens and the addresses BOOKAPP_METRICS_ALLOW names."""

import ipaddress

from flask import Response, current_app, request

from ..api.tokens import staff_token_user
from ..services import metrics


def allowed_address(address: str | None) -> bool:
    """Return whether *address* is one of METRICS_ALLOWED_ADDRESSES (addresses or networks)."""
    if not address:
        return False
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(allowed, strict=False)
               for allowed in current_app.config["METRICS_ALLOWED_ADDRESSES"])  # fmt: skip


def metrics_page():
    """Answer Prometheus's scrape: from an allowed address, or with a staff API token."""
    if not allowed_address(request.remote_addr):
        staff_token_user()
    body, content_type = metrics.render()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})

"""Who a log-in attempt comes from, as the throttle (django-axes) records it: the address, seen through the
proxies we run behind (PROXY_COUNT), and the username."""

from ipaddress import ip_address

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address for log-in throttling.

    Each of our PROXY_COUNT proxies appends the address it was reached from to X-Forwarded-For, so
    the client is the PROXY_COUNT-th entry from the right; entries further left were written by the
    client and can be forged. Without proxies (or a header shorter than the chain) REMOTE_ADDR is it, and
    so it is when that entry is no address (a request that bypassed the proxy): the throttle stores the
    address in an IP column, where `not-an-ip` made every failed log-in a 500.
    """
    count = settings.PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count and len(forwarded) >= count:
        try:
            return str(ip_address(forwarded[-count]))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")


def client_username(request, credentials=None) -> str | None:
    """The username a log-in attempt named, cut to the throttle's 255-character column: Django's log-in
    forms (the desk's and the admin's) do not limit its length, so a longer one made every failed log-in a 500."""
    username = (credentials or request.POST).get("username")
    return username[:255] if isinstance(username, str) else username

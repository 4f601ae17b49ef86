"""Answers the apps' views share: back to the page a form was sent from or a page was opened from, and a 400 in
the caller's format."""

from collections.abc import Iterator
from urllib.parse import urlsplit

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_to_next(request, fallback, *args, **kwargs) -> HttpResponseRedirect:
    """To the form's `next` page if it is on this site, else to `fallback` (a URL name with its arguments,
    as for `redirect`). On HTTPS a `next` over plain http is refused, as Django's log-in view refuses it:
    the page would leave the encrypted site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback, *args, **kwargs)


def pages_opened_from(request) -> Iterator[str]:
    """The pages on this site (path and query: a filter, a page number) this one may have been opened from, in
    the order to trust them: the link's `?next=`, then the Referer (same-origin only, SECURE_REFERRER_POLICY).
    Another site's address is never given; what is given is a path, never an address elsewhere."""
    for target in (request.GET.get("next", ""), request.headers.get("referer", "")):
        if target and url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            parts = urlsplit(target)
            yield f"{parts.path}?{parts.query}" if parts.query else parts.path


def opened_from(request, path: str) -> str | None:
    """The page at `path` on this site (with its query) if this one was opened from it (`pages_opened_from`);
    another page, or another site's address, is None."""
    return next((page for page in pages_opened_from(request) if urlsplit(page).path == path), None)


def refuse(request, reason: str = "") -> HttpResponse:
    """A 400 that says why, in the format its reader takes: the ingest API's JSON problem, plain text to a
    webhook (Twilio, Shopify), the app's 400 page to a person."""
    reason = reason or "The address or the form sent could not be read."
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": reason}, status=400)
    if request.path_info.startswith("/webhooks/"):
        return HttpResponseBadRequest(reason, content_type="text/plain")
    return render(request, "400.html", {"reason": reason}, status=400)

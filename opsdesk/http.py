"""Answers the apps' views share: back to the page a form was sent from."""

from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_to_next(request, fallback, *args, **kwargs) -> HttpResponseRedirect:
    """To the form's `next` page if it is on this site, else to `fallback` (a URL name with its arguments,
    as for `redirect`). On HTTPS a `next` over plain http is refused, as Django's log-in view refuses it:
    the page would leave the encrypted site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback, *args, **kwargs)

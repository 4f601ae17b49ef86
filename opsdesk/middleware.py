"""Refusing a request that carries a NUL character in its address, headers or form, before any view sees it."""

from .http import refuse

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refuse_nul_characters(get_response):
    """Postgres text cannot hold NUL (U+0000): a filter such as `?store=` or `?q=`, a form field or a
    webhook's field with one was a 500 wherever it reached a query. Refused here, in one place, with the
    names of the fields that carry it: to a person as the app's 400 page, to the ingest API as its JSON
    problem, to a webhook (Twilio, Shopify) as plain text. JSON bodies are checked by their own endpoints
    (they name the item). A header with one (the log-in throttle stores User-Agent and Accept) is refused
    too, as gunicorn refuses it in production; runserver lets it through."""

    def middleware(request):
        params = list(request.GET.lists())
        if request.method == "POST" and request.content_type in FORM_TYPES:
            params += list(request.POST.lists())
        names = list(dict.fromkeys(name for name, values in params if any("\x00" in v for v in values)))
        names[:0] = [header for header, value in request.headers.items() if "\x00" in value]
        if "\x00" in request.path:
            names.insert(0, "the address")
        if not names:
            return get_response(request)
        return refuse(request, f"{', '.join(names)}: contains a NUL character (\\u0000), which cannot be stored or "
                               "searched for.")

    return middleware

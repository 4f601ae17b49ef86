"""Related-sales suggestions for a store, and the one-click bundle activity."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opsdesk.tenancy import get_scoped_object, get_store, parse_pk, stores_for
from stores.models import Product

from ..activity_related import create_bundle, suggestions

WINDOW_DAYS = 90


def related_sales(request):
    stores = stores_for(request.user)
    slug = request.GET.get("store") or (stores.first().slug if stores.exists() else None)
    if slug is None:
        return render(request, "campaigns/related_sales.html", {"stores": stores, "store": None, "pairs": []})
    store = get_store(request.user, slug)
    last = store.today() - timedelta(days=1)
    first = last - timedelta(days=WINDOW_DAYS - 1)
    pairs = suggestions(store, first, last)
    return render(request, "campaigns/related_sales.html", {
        "stores": stores, "store": store, "pairs": pairs, "first": first, "last": last})


@require_POST
def related_sales_create(request):
    store = get_store(request.user, request.POST.get("store", ""))
    ids = [parse_pk(request.POST.get("anchor")), parse_pk(request.POST.get("partner"))]
    if None in ids or ids[0] == ids[1]:
        raise Http404("Pick two different products of the store.")
    anchor, partner = (get_scoped_object(Product.objects.all(), request.user, pk=i, store=store) for i in ids)
    try:
        activity = create_bundle(store, anchor, partner, owner=request.user, note=request.POST.get("note", ""))
    except ValidationError as error:
        messages.error(request, "Nothing was created: " + " ".join(error.messages))
        return redirect(reverse("campaigns:related_sales") + f"?store={store.slug}")
    messages.success(request, f"Created the bundle idea “{activity.name}”. Set the price and dates, then plan it.")
    return redirect(activity)

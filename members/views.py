"""Member pages: the members of the user's stores, phones masked for operators."""

from django.shortcuts import render

from opsdesk.privacy import mask_phone
from opsdesk.tenancy import MANAGER, scope, stores_for

from .models import Member


def index(request):
    members = scope(Member.objects.select_related("store"), request.user)[:200]
    manager_of = set(stores_for(request.user, MANAGER).values_list("pk", flat=True))
    rows = [(m, m.phone if m.store_id in manager_of else mask_phone(m.phone)) for m in members]
    return render(request, "members/index.html", {"rows": rows})

"""Store pages: overview, products, orders, violations, and the user's own store settings."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from opsdesk.privacy import mask_phone
from opsdesk.tenancy import MANAGER, get_store, has_role, stores_for

from .forms import ImportForm, MembershipSettingsForm
from .importers import ImportRejected, importers
from .models import Order, StoreMembership, Violation, ViolationStatus


def store_list(request):
    return render(request, "stores/store_list.html", {"stores": stores_for(request.user)})


def store_detail(request, slug):
    store = get_store(request.user, slug)
    context = {
        "store": store,
        "products": store.products.all()[:50],
        "orders": store.orders.all()[:20],
        "open_violations": store.violations.filter(status=ViolationStatus.OPEN)[:20],
    }
    return render(request, "stores/store_detail.html", context)


def product_detail(request, slug, pk):
    store = get_store(request.user, slug)
    product = get_object_or_404(store.products, pk=pk)
    return render(request, "stores/product_detail.html", {
        "store": store, "product": product, "versions": product.listing_versions.all(),
    })


def order_detail(request, slug, pk):
    store = get_store(request.user, slug)
    order = get_object_or_404(Order.objects.prefetch_related("lines", "payments"), store=store, pk=pk)
    phone = order.buyer_phone if has_role(request.user, store, MANAGER) else mask_phone(order.buyer_phone)
    return render(request, "stores/order_detail.html", {"store": store, "order": order, "phone": phone})


def violation_list(request, slug):
    store = get_store(request.user, slug)
    violations = Violation.objects.filter(store=store)
    status = request.GET.get("status")
    if status in ViolationStatus.values:
        violations = violations.filter(status=status)
    return render(request, "stores/violation_list.html", {
        "store": store, "violations": violations[:500], "status": status, "statuses": ViolationStatus.choices,
    })


def my_settings(request):
    """Each membership's own settings: the morning email's time zone and opt-out."""
    memberships = StoreMembership.objects.filter(user=request.user).select_related("store")
    bound = None
    if request.method == "POST":
        membership = get_object_or_404(memberships, pk=request.POST.get("membership"))
        bound = MembershipSettingsForm(request.POST, instance=membership, prefix=str(membership.pk))
        if bound.is_valid():
            bound.save()
            messages.success(request, f"Saved your settings for {membership.store}.")
            return redirect("stores:my_settings")
    forms = [
        (m, bound if bound is not None and bound.instance.pk == m.pk
         else MembershipSettingsForm(instance=m, prefix=str(m.pk)))
        for m in memberships
    ]
    return render(request, "stores/my_settings.html", {"forms": forms})


def import_csv(request, slug):
    """Upload a CSV (orders: opsdesk's columns or Shopify's export) into one of the user's stores."""
    store = get_store(request.user, slug)
    available = importers()
    form = ImportForm(request.POST or None, request.FILES or None, kinds=sorted(available))
    errors, status = [], 200
    if request.method == "POST" and form.is_valid():
        try:
            result = available[form.cleaned_data["kind"]](store, form.cleaned_data["file"])
        except ImportRejected as exc:
            errors, status = exc.errors, 400
        else:
            messages.success(request, f"Imported {result.summary()}")
            return redirect("stores:import", slug=store.slug)
    return render(request, "stores/import.html", {"store": store, "form": form, "errors": errors}, status=status)

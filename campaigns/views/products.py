"""The product suggestions the product fields of the activity, ad plan and launch forms ask for as one types."""

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from ..product_choice import suggestions


@require_GET
def product_search(request):
    """?q=<part of a SKU or title>[&store=<store id>]: the first matches among the user's stores' products."""
    return JsonResponse({"products": suggestions(request.user, request.GET.get("q", ""), request.GET.get("store", ""))})

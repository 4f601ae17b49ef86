"""Review pages: reviews of the user's stores, bad ones first."""

from django.shortcuts import render

from opsdesk.tenancy import scope

from .models import Review


def index(request):
    reviews = scope(Review.objects.select_related("store", "product"), request.user).order_by("rating", "-created_at")
    return render(request, "reviews/index.html", {"reviews": reviews[:200]})

"""The store's peer benchmarks page: paste or upload the platform's peer figures, see those of the last weeks."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render

from opsdesk.tenancy import get_store

from .. import figures
from ..forms import PeerBenchmarkForm
from ..peers import RECENT_DAYS_SHOWN, PeerImportError, import_peer_benchmarks, recent_figures


def peer_benchmarks(request, slug):
    """Operators and managers of the store enter its peers' figures: all or nothing, each bad row named."""
    store = get_store(request.user, slug)
    form = PeerBenchmarkForm()
    errors: list[str] = []
    if request.method == "POST":
        form = PeerBenchmarkForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = import_peer_benchmarks(store, form.csv_text(), mark=form.cleaned_data["mark"] or None,
                                                dates=form.cleaned_data["dates"] or None,
                                                source=form.cleaned_data["source"])
            except UnicodeDecodeError:
                errors = ["The file is not UTF-8 text."]
            except PeerImportError as exc:
                errors = [str(e) for e in exc.errors]
            else:
                days = ", ".join(figures.day_words(d) for d in result.days)
                messages.success(request, f"Saved {result.figures} peer figure{'s' * (result.figures != 1)} of "
                                          f"{days}" + (f" (replacing {result.replaced})." if result.replaced else "."))
                return redirect("metrics:peer_benchmarks", slug=store.slug)
    return render(request, "metrics/peer_benchmarks.html", {
        "store": store, "form": form, "errors": errors[:settings.IMPORT_ERRORS_SHOWN], "error_count": len(errors),
        "recent": recent_figures(store), "recent_days": RECENT_DAYS_SHOWN})

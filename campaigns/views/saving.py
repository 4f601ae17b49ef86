"""Saving a create form whose twin may land at the same moment (a double-clicked Create)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.forms import ModelForm


def save_new(form: ModelForm, then: Callable | None = None):
    """Save the valid `form` (and run `then(obj)` in the same transaction); None, with the form's own
    "already has one with that name" error, when a twin passed the same check and was saved first."""
    try:
        with transaction.atomic():
            obj = form.save()
            if then:
                then(obj)
            return obj
    except IntegrityError:
        form.full_clean()  # checked again now that the twin is stored: the form names the clash
        if form.is_valid():
            raise
        return None

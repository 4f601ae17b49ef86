"""Heavy libraries (pandas, numpy, scipy) imported on first use instead of when a module is imported.

`pd = lazy_module("pandas")` is used as `import pandas as pd` is (`pd.DataFrame(...)`); the import happens
the first time one of its attributes is read. The URL configuration reaches every module that computes with
these libraries, and a Celery worker loads it too (Celery runs Django's system checks at start-up), so
importing them eagerly cost the web process and every worker seconds before they were ready, while most
requests and tasks never use them. A task that does pays for it once per pool process, on first use.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """Stands in for a module until an attribute is read; then imports it (once) and reads from it."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def _load(self) -> ModuleType:
        if self._module is None:
            self._module = importlib.import_module(self._name)  # the import system's lock makes this thread-safe
        return self._module

    def __getattr__(self, attr: str):
        return getattr(self._load(), attr)

    def __dir__(self):
        return dir(self._load())

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str) -> LazyModule:
    return LazyModule(name)

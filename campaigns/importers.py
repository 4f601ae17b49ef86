"""Ad reports as an import kind (`stores.importers.importers()`): the ad import page stores the report as an
import job and a worker imports it with `import_ad_report`; the summary, or every bad line (its column and
reason), shows on the job's status page like an order file's. `manage.py import_csv ad_report` works too.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from stores.importers import (
    ImportedAs,
    ImportRejected,
    ImportResult,
    ReportProgress,
    no_progress,
    source_size,
    too_large,
)
from stores.models import Store

from .ads_importers import AdReportError, import_ad_report


def _raw(source) -> bytes:
    """A report's bytes (UTF-16 and GBK are decoded by `read_report`, not here): a `str` is the report's text,
    never a path; a `pathlib.Path` or an open file is read."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, str):
        return source.encode()
    if isinstance(source, Path):
        return source.read_bytes()
    return source.read()


def import_ad_report_file(store: Store, source, format: str | None = None,  # noqa: A002
                          dates: str | None = None, mark: str | None = None,
                          progress: ReportProgress = no_progress) -> ImportResult:
    """`import_ad_report` as an importer (the upload form's format, date order and decimal mark as keywords):
    bad lines as (file line, "column: reason"); `progress` is told how far it got."""
    if refusal := too_large(source_size(source) or 0, settings.AD_REPORT_MAX_BYTES):
        raise ImportRejected([(1, refusal)])
    try:
        result = import_ad_report(store, _raw(source), format or None, dates or None, mark or None, progress)
    except AdReportError as exc:
        raise ImportRejected([(e.row, f"{e.column}: {e.reason}") for e in exc.errors]) from None
    return ImportedAs(kind="ad report", format=result.format, rows=result.rows, created=result.created,
                            duplicates=result.updated, refreshed=result.refreshed, said=str(result))


IMPORTERS = {"ad_report": import_ad_report_file}

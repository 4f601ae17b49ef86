"""Markdown → safe HTML for playbooks: raw HTML in the source is shown as text, unsafe links dropped."""

from __future__ import annotations

import markdown
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#")


class _DropUnsafeLinks(Treeprocessor):
    def run(self, root):
        for element in root.iter():
            for attr in ("href", "src"):
                value = element.get(attr)
                if value is not None and not value.strip().lower().startswith(SAFE_SCHEMES):
                    del element.attrib[attr]


class _EscapeHtml(Extension):
    """No raw HTML blocks or inline tags: they fall through to text and get escaped."""

    def extendMarkdown(self, md):  # noqa: N802 (markdown's API name)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_DropUnsafeLinks(md), "drop_unsafe_links", 0)


def render_markdown(text: str) -> SafeString:
    html = markdown.markdown(text, extensions=[_EscapeHtml(), "sane_lists"], output_format="html")
    return mark_safe(html)  # noqa: S308 - raw HTML is escaped and unsafe links dropped above

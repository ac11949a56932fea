"""PDF from our own HTML templates with WeasyPrint, loading nothing from the network or the
disk: only `data:` URLs (charts drawn on the server) are read."""

from typing import Any

import weasyprint


def _only_data_urls(url: str, *args: Any, **kwargs: Any) -> Any:
    if url.startswith("data:"):
        return weasyprint.default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"BackCare documents load no external resources ({url}).")


def render_pdf(html: str) -> bytes:
    """The PDF of `html`. Raises ValueError if the document asks for anything but a data: URL
    (WeasyPrint reports it and leaves the resource out)."""
    pdf = weasyprint.HTML(string=html, url_fetcher=_only_data_urls, base_url=None).write_pdf()
    assert pdf is not None
    return pdf

"""PDFs load nothing but data: URLs (our own server-drawn charts)."""

import base64

import pytest

from backcare.core import pdf

PIXEL_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">'
    '<rect width="4" height="4"/></svg>'
)


def test_a_document_with_a_data_url_image_renders():
    url = "data:image/svg+xml;base64," + base64.b64encode(PIXEL_SVG.encode()).decode()
    out = pdf.render_pdf(f'<p>Chart</p><img src="{url}" alt="chart">')
    assert out.startswith(b"%PDF")


@pytest.mark.parametrize("url", ["https://example.com/x.png", "file:///etc/passwd", "/static/x"])
def test_every_other_url_is_refused(url):
    with pytest.raises(ValueError, match="no external resources"):
        pdf._only_data_urls(url)

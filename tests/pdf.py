"""Reading PDFs in tests with poppler's command-line tools (Debian's poppler-utils, installed by
`make browser-deps`): the text of every page, and a page rendered to a PNG image."""

import shutil
import subprocess


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: run `make browser-deps` (Debian's poppler-utils)"
    return path


def pdf_text(content: bytes) -> str:
    """The PDF's text, with runs of white space made single spaces."""
    found = subprocess.run(  # noqa: S603 (a fixed tool, our own PDF)
        [_tool("pdftotext"), "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return " ".join(found.stdout.decode().split())


def pdf_page_png(content: bytes, page: int = 1) -> bytes:
    """Page `page` of the PDF rendered to a PNG image (72 dpi)."""
    found = subprocess.run(  # noqa: S603 (a fixed tool, our own PDF)
        [_tool("pdftoppm"), "-png", "-r", "72", "-f", str(page), "-l", str(page), "-", "-"],
        input=content,
        capture_output=True,
        check=True,
    )
    return found.stdout

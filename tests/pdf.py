"""Reading PDFs in tests with poppler's command-line tools (Debian's poppler-utils, installed by
`make browser-deps`): the text of every page, and a page rendered to a PNG image."""

import shutil
import subprocess
import tempfile
from pathlib import Path


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: run `make browser-deps` (Debian's poppler-utils)"
    return path


def pdf_text(content: bytes) -> str:
    """The PDF's text in reading order, with runs of white space made single spaces."""
    found = subprocess.run(  # noqa: S603 (a fixed tool, our own PDF)
        [_tool("pdftotext"), "-", "-"], input=content, capture_output=True, check=True
    )
    return " ".join(found.stdout.decode().split())


def pdf_page_png(content: bytes, page: int = 1) -> bytes:
    """Page `page` of the PDF rendered to a PNG image (72 dpi)."""
    with tempfile.TemporaryDirectory() as folder:
        source, image = Path(folder, "report.pdf"), Path(folder, "page")
        source.write_bytes(content)
        subprocess.run(  # noqa: S603 (a fixed tool, our own PDF)
            [
                *(_tool("pdftoppm"), "-png", "-r", "72", "-singlefile"),
                *("-f", str(page), "-l", str(page), str(source), str(image)),
            ],
            capture_output=True,
            check=True,
        )
        return image.with_suffix(".png").read_bytes()

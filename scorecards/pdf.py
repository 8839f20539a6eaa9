"""The scorecards' PNG images, drawn from their PDF pages by PDFium (``pypdfium2``: the
PDF library of Chromium): about five times quicker than drawing the figure again with Agg.
(The edition's PDF booklet is ``scorecards.booklet``.)"""

from __future__ import annotations

import threading

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from scorecards.charts import (
    encode_png,
)

# PDFium is not thread-safe: one thread at a time calls it, in each process.
_PDFIUM = threading.Lock()


def page_png(pdf: bytes, dpi: float) -> bytes:
    """The first page of the PDF file ``pdf`` as a PNG image at ``dpi`` (white background),
    as drawn by PDFium."""
    with _PDFIUM:
        document = pdfium.PdfDocument(pdf)
        try:
            page = document[0]
            # PDFium rounds the size up: 518.4 pt at 100 dpi is 721 lines, for 720.
            width, height = (round(side * dpi / 72) for side in page.get_size())
            bitmap = page.render(
                scale=dpi / 72,
                fill_color=(255, 255, 255, 255),
                force_bitmap_format=pdfium_c.FPDFBitmap_BGRA,
                rev_byteorder=True,  # RGBA, as PNG wants
            )
            return encode_png(bitmap.to_numpy()[:height, :width], dpi)
        finally:
            document.close()

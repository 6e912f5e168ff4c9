"""QR codes of a visit's reference (never of its private link), for the desk to scan at check-in."""

from __future__ import annotations

import io

import segno

# A full QR code, never a Micro QR: phone cameras and the browsers' BarcodeDetector read only full ones.
# Level M survives a crease or a cracked phone screen; the quiet zone of 4 modules is the standard's.
_ERROR = "m"
_BORDER = 4


def _code(reference: str) -> segno.QRCode:
    return segno.make_qr(reference, error=_ERROR, boost_error=False)


def reference_png(reference: str, scale: int = 6) -> bytes:
    """The PNG of the reference's QR code, `scale` pixels a module (about 200 px wide for NMR-XXXXXX)."""
    out = io.BytesIO()
    _code(reference).save(out, kind="png", scale=scale, border=_BORDER)
    return out.getvalue()


def reference_svg(reference: str, title: str, scale: int = 4) -> str:
    """The reference's QR code as inline SVG for an HTML page (no XML declaration, script or style
    element, so the pages' CSP allows it), an image whose accessible name is `title` (escaped here)."""
    out = io.BytesIO()
    _code(reference).save(out, kind="svg", scale=scale, border=_BORDER, xmldecl=False, svgns=True,
                          title=title, svgclass="qr", lineclass=None, omitsize=False, dark="#000", light="#fff")
    return out.getvalue().decode("utf-8").replace("<svg ", '<svg role="img" ', 1)

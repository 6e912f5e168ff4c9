"""The museum's own website: the snippet that shows the coming days, on a demo page with its code."""

from __future__ import annotations

from flask import current_app, g, render_template

from booking.views.public import bp


@bp.get("/embed")
def embed():
    """A page as the museum's website would hold the snippet, and the code to paste, in this language."""
    snippet = render_template("public/_embed_snippet.html", lang=g.lang, base=current_app.config["PUBLIC_BASE_URL"])
    return render_template("public/embed.html", snippet=snippet, origins=current_app.config["EMBED_ORIGINS"])

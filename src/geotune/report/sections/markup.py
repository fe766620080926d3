"""Small HTML helpers shared by the report and the web app: escaping, tables, embedded pictures."""

from __future__ import annotations

import base64
import html
import io
from typing import Any, Iterable, Sequence

import numpy as np

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2327;background:#f6f7f7}
header{background:#2c3e50;color:#fff;padding:14px 24px}header h1{margin:0;font-size:1.4em}
header p{margin:4px 0 0;opacity:.8;font-size:.9em}main{padding:8px 24px 40px;max-width:1200px}
section{background:#fff;border:1px solid #dcdcde;border-radius:6px;padding:12px 18px;margin:14px 0}
h2{font-size:1.15em;margin:4px 0 10px}table{border-collapse:collapse;font-size:.88em;margin:6px 0}
td,th{border:1px solid #dcdcde;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f0f0f1}
td.num{text-align:right;font-variant-numeric:tabular-nums}.note{color:#8a4b00;background:#fff8e5;padding:6px 10px}
.grid{display:flex;flex-wrap:wrap;gap:10px}.card{text-align:center;font-size:.8em;max-width:180px}
.card img{image-rendering:pixelated;width:128px;height:128px;border:1px solid #ccc;display:block;margin:auto}
img.plot{max-width:100%;height:auto}nav a{margin-right:12px}pre{white-space:pre-wrap;font-size:.85em}
.bar{background:#2271b1;height:12px;display:inline-block}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td class='num'>{esc(fmt(v))}</td>" if isinstance(v, (int, float)) and not isinstance(v, bool)
                         else f"<td>{esc(v)}</td>" for v in row) + "</tr>"
        for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def img(data: bytes, alt: str, cls: str = "plot") -> str:
    return f"<img class='{cls}' alt='{esc(alt)}' src='{png_uri(data)}'>"


def array_png(rgb: np.ndarray) -> bytes:
    """H x W x 3 (or H x W) uint8 as PNG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def figure_png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def card(image: bytes, caption: str) -> str:
    return f"<div class='card'>{img(image, caption, cls='')}<div>{esc(caption)}</div></div>"


def page(title: str, subtitle: str, blocks: Sequence[tuple[str, str]], notes: Sequence[str] = ()) -> str:
    toc = " ".join(f"<a href='#s{i}'>{esc(t)}</a>" for i, (t, _) in enumerate(blocks))
    note_html = "".join(f"<p class='note'>{esc(n)}</p>" for n in notes)
    body = "".join(f"<section id='s{i}'><h2>{esc(t)}</h2>{b}</section>" for i, (t, b) in enumerate(blocks))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{STYLE}</style></head>"
            f"<body><header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header><main><nav>{toc}</nav>"
            f"{note_html}{body}</main></body></html>")

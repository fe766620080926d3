"""The workbench's routes (Starlette): JSON under /api, PNGs for thumbnails, slices, masks and predictions,
and the page itself. Every change goes through ``Workbench``; ``guard.Guard`` checks host, token and body
size before any route runs. Blocking work (disk, features) runs in Starlette's thread pool.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ...errors import DataError, GeotuneError
from .guard import Guard
from .workbench import Workbench, check_axis

STATIC = Path(__file__).with_name("static")
STATIC_FILES = {"workbench.js": "text/javascript", "workbench.css": "text/css"}
MAX_BODY = 1_000_000  # a brush stroke of 5000 points is ~100 kB; labels are tiny


def create_app(workbench: Workbench, token: str | None = None, allowed_hosts: set[str] | None = None,
               max_body: int = MAX_BODY):
    """The ASGI app for ``workbench``; ``token`` defaults to a fresh random one (``app.state.token``)."""
    token = token or secrets.token_urlsafe(24)

    def call(fn, *, png: bool = False):
        """An endpoint running ``fn(query, body)`` in the thread pool; errors a user can fix become 400."""
        async def endpoint(request: Request):
            body = {}
            if request.method == "POST":
                raw = await request.body()
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return JSONResponse({"error": "the request body is not JSON"}, status_code=400)
                if not isinstance(body, dict):
                    return JSONResponse({"error": "the request body must be a JSON object"}, status_code=400)
            try:
                result = await run_in_threadpool(fn, request.query_params, body)
            except (GeotuneError, KeyError, TypeError, ValueError) as exc:
                return JSONResponse({"error": _message(exc)}, status_code=400)
            if png:
                if result is None:
                    return Response(status_code=204)
                return Response(result, media_type="image/png", headers={"cache-control": "no-store"})
            return JSONResponse(result)
        return endpoint

    wb = workbench

    def number(query, name, default=None):
        value = query.get(name, default)
        if value is None:
            raise DataError(f"missing parameter {name!r}")
        return int(value)

    def slice_args(src):
        return src["source"], check_axis(src["axis"]), int(src["index"])

    routes = [
        Route("/", lambda request: _page(token), methods=["GET"]),
        Route("/static/{name}", _static, methods=["GET"]),
        Route("/api/state", call(lambda q, b: wb.state()), methods=["GET"]),
        Route("/api/next", call(lambda q, b: {"items": wb.next_items(number(q, "n", 12)),
                                              "model_version": wb.learner.model_version}), methods=["GET"]),
        Route("/api/items", call(lambda q, b: wb.items(number(q, "offset", 0), number(q, "limit", 60),
                                                       q.get("filter", "all"))), methods=["GET"]),
        Route("/api/thumb", call(lambda q, b: wb.thumbnail(q["item"], number(q, "size", 160)), png=True),
              methods=["GET"]),
        Route("/api/slice", call(lambda q, b: wb.slice_png(*slice_args(q), q.get("cmap", "seismic")), png=True),
              methods=["GET"]),
        Route("/api/slice/mask", call(lambda q, b: wb.slice_mask_png(*slice_args(q)), png=True), methods=["GET"]),
        Route("/api/slice/prediction", call(lambda q, b: wb.slice_prediction_png(*slice_args(q)), png=True),
              methods=["GET"]),
        Route("/api/slice/points", call(lambda q, b: {"points": wb.points(*slice_args(q))}), methods=["GET"]),
        Route("/api/label", call(lambda q, b: wb.label(str(b["item"]), str(b["label"]), _who(b))), methods=["POST"]),
        Route("/api/unlabel", call(lambda q, b: wb.unlabel(str(b["item"]))), methods=["POST"]),
        Route("/api/undo", call(lambda q, b: wb.undo(int(b["undo"]))), methods=["POST"]),
        Route("/api/classes", call(lambda q, b: {"classes": wb.project.add_class(str(b["name"]))}), methods=["POST"]),
        Route("/api/retrain", call(lambda q, b: (wb.learner.request_retrain(), {"requested": True})[1]),
              methods=["POST"]),
        Route("/api/point", call(lambda q, b: wb.label_point(*slice_args(b), int(b["row"]), int(b["col"]),
                                                             str(b["label"]), _who(b))), methods=["POST"]),
        Route("/api/stroke", call(lambda q, b: wb.stroke(*slice_args(b), str(b.get("label", "")),
                                                         float(b.get("radius", 4)), list(b["points"]), _who(b))),
              methods=["POST"]),
    ]

    async def not_found(request, exc):
        return JSONResponse({"error": "not found"}, status_code=404)

    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.state.token = token
    app.state.workbench = workbench
    hosts = allowed_hosts or {"127.0.0.1", "localhost", "::1"}
    guarded = Guard(app, token, hosts, max_body)
    guarded.state = app.state
    return guarded


def _who(body: dict) -> str | None:
    who = str(body.get("who") or "").strip()[:60]
    return "".join(c for c in who if c.isprintable() and c not in ",\"") or None


def _message(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc)


def _page(token: str) -> HTMLResponse:
    html = (STATIC / "index.html").read_text(encoding="utf-8").replace("{{TOKEN}}", token)
    return HTMLResponse(html, headers={"cache-control": "no-store"})


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_FILES:  # a fixed list: no path from the request reaches the disk
        return JSONResponse({"error": "not found"}, status_code=404)
    return Response((STATIC / name).read_bytes(), media_type=STATIC_FILES[name])

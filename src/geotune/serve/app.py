"""The local web app on the standard library's ThreadingHTTPServer.

    GET  /                      runs and the upload form
    GET  /run/N                 a run's pictures (maps, plans, plots)
    GET  /run/N/report          the run's HTML report (made on first request, then kept)
    GET  /run/N/file/NAME       a PNG from that run's own listing; any other name is 404
    POST /predict               multipart form (run, file) -> HTML page
    POST /api/predict?run=N&name=FILE   raw body -> JSON
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import sys
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import GeotuneError
from . import pages
from .catalog import Catalog
from .predict import predicting_tasks

DEFAULT_MAX_UPLOAD_MB = 20.0
DRAIN_BYTES = 256 << 20  # too-large uploads up to this size are read and dropped; larger ones cut off


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class GeotuneServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, catalog: Catalog, max_upload_bytes: int, verbose: bool = False):
        super().__init__(address, Handler)
        self.catalog = catalog
        self.max_upload_bytes = max_upload_bytes
        self.verbose = verbose

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def make_server(runs, host: str = "127.0.0.1", port: int = 8765, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
                verbose: bool = False) -> GeotuneServer:
    """A server for ``runs`` (run folders or folders of runs), bound but not yet serving."""
    return GeotuneServer((host, port), Catalog(list(runs)), int(max_upload_mb * 1024 * 1024), verbose)


class Handler(BaseHTTPRequestHandler):
    server: GeotuneServer
    server_version = "geotune"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if self.server.verbose:
            super().log_message(format, *args)

    # -- routing ------------------------------------------------------------------------------------
    def do_GET(self):
        self._dispatch(self._get)

    def do_POST(self):
        self._dispatch(self._post)

    def _dispatch(self, route):
        try:
            route(urlsplit(self.path))
        except BadRequest as exc:
            self._error(exc.status, str(exc))
        except GeotuneError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # a bug, not bad input: say so, keep serving
            if self.server.verbose:
                traceback.print_exc(file=sys.stderr)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error ({type(exc).__name__}); "
                        "run `geotune -v serve` to see the traceback")

    def _get(self, url):
        catalog = self.server.catalog
        parts = [unquote(p) for p in url.path.split("/")[1:]]
        if url.path == "/":
            return self._send(200, pages.index(catalog, self.server.max_upload_bytes / 2**20))
        if len(parts) >= 2 and parts[0] == "run" and (run := catalog.get(parts[1])) is not None:
            index = int(parts[1])
            if len(parts) == 2:
                return self._send(200, pages.run_page(index, run, catalog.pictures(run)))
            if parts[2:] == ["report"]:
                fresh = "fresh" in parse_qs(url.query, keep_blank_values=True)
                with catalog.lock:
                    text = catalog.report(index, fresh)
                return self._send(200, text)
            if len(parts) >= 4 and parts[2] == "file":
                name = "/".join(parts[3:])
                file = catalog.pictures(run).get(name)  # only names from the run's own listing
                if file is not None and file.is_file():
                    return self._send(200, file.read_bytes(), "image/png")
        raise BadRequest(HTTPStatus.NOT_FOUND, f"nothing at {url.path}")

    def _post(self, url):
        if url.path == "/predict":
            run, filename, payload = self._form_upload()
            return self._send(200, pages.result_page(self._predict(run, filename, payload, page=True)))
        if url.path == "/api/predict":
            query = parse_qs(url.query)
            body = self._body()
            result = self._predict(query.get("run", [""])[0], query.get("name", [""])[0], body, page=False)
            return self._send(200, json.dumps(result.to_json()), "application/json")
        raise BadRequest(HTTPStatus.NOT_FOUND, f"nothing to post to at {url.path}")

    # -- uploads ------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise BadRequest(HTTPStatus.LENGTH_REQUIRED, "the upload must say its size (Content-Length)")
        limit = self.server.max_upload_bytes
        if int(length) > limit:
            self.close_connection = True  # what is left unread must not be taken for a next request
            if int(length) <= DRAIN_BYTES:  # read and drop it, so the browser gets the answer, not a reset
                left = int(length)
                while left > 0 and (chunk := self.rfile.read(min(1 << 16, left))):
                    left -= len(chunk)
            raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                             f"the upload is {int(length) / 2**20:.1f} MB; the limit is {limit / 2**20:g} MB")
        return self.rfile.read(int(length))

    def _form_upload(self) -> tuple[str, str, bytes]:
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            raise BadRequest(HTTPStatus.BAD_REQUEST, "send the file as a multipart form (the page's upload form)")
        body = self._body()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts() if message.is_multipart() else []:
            name = part.get_param("name", header="content-disposition")
            if name:
                fields[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
        if "file" not in fields or not fields["file"][0]:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "no file was chosen")
        run = fields.get("run", (None, b""))[1].decode("utf-8", "replace").strip()
        return run, fields["file"][0], fields["file"][1]

    def _predict(self, run_id: str, filename: str, payload: bytes, page: bool):
        """For the page: the first MAX_SAMPLES predictions with pictures; for the JSON API: all, without."""
        from .predict import MAX_SAMPLES, predict_upload, quoted

        catalog = self.server.catalog
        run = catalog.get(run_id)
        if run is None:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"no run number {run_id!r}; choose one from the list")
        if run.kind not in predicting_tasks():
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"{run.name} is a {run.kind} run; predictions need a "
                             "classify, segment or logs model")
        filename = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:120] or "upload"
        with catalog.lock:
            try:
                return predict_upload(catalog.model(int(run_id)), run.kind, run.name, filename, payload,
                                      MAX_SAMPLES if page else None)
            except GeotuneError:
                raise
            except (ValueError, OSError) as exc:  # a reader that let a library's error through
                raise BadRequest(HTTPStatus.BAD_REQUEST, f"{filename}: could not be read ({quoted(exc)})")

    # -- responses ----------------------------------------------------------------------------------
    def _send(self, status: int, body, content_type: str = "text/html; charset=utf-8") -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        wants_json = self.path.startswith("/api/")
        body = json.dumps({"error": message}) if wants_json else pages.error_page(int(status), message)
        try:
            self._send(int(status), body, "application/json" if wants_json else "text/html; charset=utf-8")
        except (BrokenPipeError, ConnectionResetError):  # the client gave up; nothing left to tell it
            pass

"""The review page's web server: the page, its static files, and a JSON API that does
everything the page does (``/api/...``). Bound to 127.0.0.1; every request carries the token
printed with the URL (``?token=`` or the ``X-Dubkit-Token`` header), so another local user or a
web page the browser has open cannot read or change the job.

Starlette serves (media with HTTP ranges, so the browser can seek) and uvicorn runs it.
"""
from __future__ import annotations

import hmac
import json
import secrets
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from dubkit.review.session import EditError, ReviewSession

MAX_BODY = 1 << 20  # bytes: an edit, or an SRT of every line
STATIC = {"review.js": "text/javascript", "review.css": "text/css"}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def create_app(session: ReviewSession, token: str) -> Starlette:
    """The server of one job folder; every route answers only requests carrying ``token``."""

    def authorised(request: Request) -> bool:
        given = request.query_params.get("token") or request.headers.get("x-dubkit-token", "")
        return hmac.compare_digest(given.encode(), token.encode())

    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            if not authorised(request):
                return _error(401, "missing or wrong token: open the URL dubkit review printed")
            try:
                return await handler(request)
            except EditError as exc:
                return _error(exc.status, str(exc))
        return endpoint

    async def page(request: Request) -> Response:
        html = _static("review.html").replace("{{token}}", token)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return _error(404, f"no file {name!r}")
        return Response(_static(name), media_type=STATIC[name])

    async def project(request: Request) -> Response:
        return JSONResponse(session.view())

    async def edit_line(request: Request) -> Response:
        body = await _json(request)
        changes = {k: v for k, v in body.items() if k != "revision"}
        return JSONResponse(session.edit(request.path_params["line"], changes,
                                         body.get("revision")))

    async def render(request: Request) -> Response:
        return JSONResponse(session.start_render(), status_code=202)

    async def render_status(request: Request) -> Response:
        return JSONResponse(session.render_state.to_dict())

    async def export_srt(request: Request) -> Response:
        name, text = session.export_srt()
        return Response(text, media_type="application/x-subrip",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def import_srt(request: Request) -> Response:
        raw = await _body(request)
        revision = request.query_params.get("revision", "")
        if not revision.isdigit():
            raise EditError(400, "give the revision the page loaded: ?revision=N")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise EditError(422, f"the SRT file is not UTF-8 text (byte {exc.start})") from None
        return JSONResponse(session.import_srt(text, int(revision)))

    async def media(request: Request) -> Response:
        return FileResponse(session.media_file(request.path_params["which"]))

    async def line_audio(request: Request) -> Response:
        return FileResponse(session.line_audio(request.path_params["line"]),
                            media_type="audio/wav")

    routes = [
        Route("/", guarded(page)),
        Route("/static/{name}", guarded(static)),
        Route("/api/project", guarded(project)),
        Route("/api/lines/{line}", guarded(edit_line), methods=["PATCH"]),
        Route("/api/render", guarded(render), methods=["POST"]),
        Route("/api/render", guarded(render_status)),
        Route("/api/lines.srt", guarded(export_srt)),
        Route("/api/lines.srt", guarded(import_srt), methods=["PUT"]),
        Route("/media/line/{line}", guarded(line_audio)),
        Route("/media/{which}", guarded(media)),
    ]
    return Starlette(routes=routes)


async def _body(request: Request) -> bytes:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise EditError(413, f"the request is over {MAX_BODY // 1024} KiB")
    return raw


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await _body(request))
    except (ValueError, UnicodeDecodeError):
        raise EditError(400, "the request body is not JSON") from None
    if not isinstance(body, dict):
        raise EditError(400, "the request body must be a JSON object")
    return body


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _static(name: str) -> str:
    return resources.files("dubkit.review").joinpath("static", name).read_text(encoding="utf-8")

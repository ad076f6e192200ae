"""/docs: Swagger UI served from the swagger-ui-bundle-v2 package, not a CDN, so it works offline; it reads
/docs/openapi.json, the document with `servers` set to the address the browser used, so "Try it out" calls this
server wherever it runs. Without the package installed, FastAPI's own /docs (assets from a CDN) stays."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.staticfiles import StaticFiles


def docs_assets() -> Path | None:
    """Swagger UI's files from swagger-ui-bundle-v2, or None when it is not installed."""
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(str(swagger_ui_path))


def install_docs(app: FastAPI, document: Callable[[], dict[str, Any]], assets: Path) -> None:
    """/docs and /docs/openapi.json on `app` (created with `docs_url=None`), Swagger UI's files from `assets`."""
    app.mount("/docs/assets", StaticFiles(directory=assets), name="swagger-ui-assets")

    async def docs(request: Request) -> HTMLResponse:
        prefix = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{prefix}/docs/openapi.json",
            title=f"{app.title} {app.version}",
            swagger_js_url=f"{prefix}/docs/assets/swagger-ui-bundle.js",
            swagger_css_url=f"{prefix}/docs/assets/swagger-ui.css",
            swagger_favicon_url=f"{prefix}/docs/assets/favicon-32x32.png",
            oauth2_redirect_url=None,
        )

    async def served_document(request: Request) -> JSONResponse:
        return JSONResponse({**document(), "servers": [{"url": str(request.base_url).rstrip("/")}]})

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs/openapi.json", served_document, methods=["GET"], include_in_schema=False)

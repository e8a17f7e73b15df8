"""Web hardening in one place: security headers, cookie flags and request body limits.

- Every response gets a strict Content-Security-Policy (no inline script or style, no
  framing), ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, a
  ``Referrer-Policy`` (``no-referrer`` on URLs that carry a ``?k=`` token, else
  ``same-origin``) and a ``Permissions-Policy`` (the camera only for the kiosk lookup and check-in).
- The API docs page (APIFlask's Swagger UI template, which has one inline ``<script>`` and
  one ``<style>``) gets the same policy plus the SHA-256 hashes of exactly those blocks.
- Cookies: the session, "remember me" and device cookies are HttpOnly and SameSite=Lax;
  Secure when ``PUBLIC_BASE_URL`` is https, and on any request that arrived over https
  (behind nginx with ``PROXY_COUNT`` set, ProxyFix takes the scheme from
  ``X-Forwarded-Proto``).
- Request bodies are limited to ``MAX_CONTENT_LENGTH`` (1 MB); a route decorated with
  :func:`large_body` (or named in ``LARGE_BODY_ENDPOINTS``: the back office's procedure
  import) takes up to ``UPLOAD_MAX_CONTENT_LENGTH`` (5 MB).
  Larger bodies get 413 ``payload_too_large`` (the API envelope, or the error page).

See docs/security.md for the threat model these serve.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

F = TypeVar("F", bound=Callable[..., Any])

# 'wasm-unsafe-eval': the kiosk's camera scan compiles the ZXing .wasm (served by us);
# blob: workers and media: the barcode-detector polyfill and the display's audio.
CSP_DIRECTIVES: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self' 'wasm-unsafe-eval'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "media-src": "'self' blob: data:",
    "connect-src": "'self' ws: wss: blob: data:",  # blob:/data: never leave the machine
    "font-src": "'self'",
    "worker-src": "'self' blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=()"
# the kiosk scans a receipt's QR (the lookup) or a booking's (the check-in) with its camera
CAMERA_ENDPOINTS = frozenset({"kiosk.lookup", "kiosk.booking"})
DOCS_ENDPOINTS = frozenset({"openapi.docs", "openapi.swagger_ui_oauth_redirect"})  # APIFlask's
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
_LARGE_BODY_ATTR = "_onestop_large_body"
# routes that take files without carrying the decorator themselves
LARGE_BODY_ENDPOINTS = frozenset({"backoffice.procedures_import"})


def csp(extra: dict[str, str] | None = None) -> str:
    """The policy as a header value; ``extra`` appends sources to directives."""
    parts = []
    for name, value in CSP_DIRECTIVES.items():
        more = (extra or {}).get(name)
        parts.append(f"{name} {value} {more}" if more else f"{name} {value}")
    return "; ".join(parts)


# what nearly every response gets, built once rather than per response
DEFAULT_CSP = csp()
PERMISSIONS = {False: PERMISSIONS_POLICY,
               True: PERMISSIONS_POLICY.replace("camera=()", "camera=(self)")}


def _inline_hashes(html: str) -> dict[str, str]:
    """'sha256-...' sources for each inline <script> / <style> block of a page we do not own."""
    found: dict[str, list[str]] = {"script-src": [], "style-src": []}
    for tag, body in _INLINE.findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        found["script-src" if tag == "script" else "style-src"].append(f"'sha256-{digest}'")
    return {k: " ".join(v) for k, v in found.items() if v}


def large_body(view: F) -> F:
    """Let this route take bodies up to ``UPLOAD_MAX_CONTENT_LENGTH`` (file imports)."""
    setattr(view, _LARGE_BODY_ATTR, True)
    return view


def body_limit(limit: Callable[[Any], int]) -> Callable[[F], F]:
    """Let this route take bodies up to ``limit(app.config)`` bytes (hall media uploads)."""

    def mark(view: F) -> F:
        setattr(view, _LARGE_BODY_ATTR, limit)
        return view

    return mark


def _body_limit() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    marked = getattr(view, _LARGE_BODY_ATTR, False)
    if callable(marked):
        request.max_content_length = int(marked(current_app.config))
    elif request.endpoint in LARGE_BODY_ENDPOINTS or marked:
        request.max_content_length = int(current_app.config["UPLOAD_MAX_CONTENT_LENGTH"])
    limit, length = request.max_content_length, request.content_length
    if limit is not None and length is not None and length > limit:
        # refused before anything reads it; an error page that builds a form (CSRF field)
        # must then find an empty one instead of tripping over the same limit again
        request.__dict__.update(form=ImmutableMultiDict(), files=ImmutableMultiDict())
        raise RequestEntityTooLarge()


def _with_secure(value: str) -> str:
    return value if any(p.strip().lower() == "secure" for p in value.split(";")) else value + "; Secure"


class SecureCookies:
    """WSGI middleware: a request that came over https gets only Secure cookies (the session
    cookie is written after every ``after_request`` hook, hence a middleware). It sits inside
    ProxyFix, so the scheme is the one the proxy received."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("wsgi.url_scheme") != "https":
            return self.app(environ, start_response)

        def secure_start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            headers = [(k, _with_secure(v) if k.lower() == "set-cookie" else v) for k, v in headers]
            return start_response(status, headers, *args)

        return self.app(environ, secure_start)


def _headers(response: Response) -> Response:
    headers = response.headers
    if request.endpoint in DOCS_ENDPOINTS and response.mimetype == "text/html":
        headers["Content-Security-Policy"] = csp(_inline_hashes(response.get_data(as_text=True)))
    elif response.mimetype != "application/pdf":  # a policy on a PDF can stop the browser's viewer
        headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # a ?k= token in the address must not leak to another site through Referer
    headers.setdefault("Referrer-Policy", "no-referrer" if "k" in request.args else "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS[request.endpoint in CAMERA_ENDPOINTS])
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    secure = str(app.config.get("PUBLIC_BASE_URL") or "").lower().startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
    )
    if secure:
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    # first: CSRFProtect's own before_request reads the form, under the limit in force
    app.before_request_funcs.setdefault(None, []).insert(0, _body_limit)
    app.after_request(_headers)
    app.wsgi_app = SecureCookies(app.wsgi_app)  # type: ignore[method-assign]

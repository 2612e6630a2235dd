"""The security headers on every answer: no framing, scripts only from this server, no sniffing, no referrer.

The dashboard holds the control token (in its address at the first visit, then in the page),
so no other site may frame it (clickjacking: ``frame-ancestors 'none'``, and ``X-Frame-Options``
for older browsers), no script but the server's own files may run in it (the page has no
inline script, style or event handler, so the policy costs it nothing), and no link or request
from it may carry its address to another site in a ``Referer``. One ``OutputTransform``, given
to the Application, adds them to every answer: pages, files, the API, errors and the WebSocket
upgrade alike. ``connect-src`` is left open: older Safari does not count ``ws:`` as ``'self'``.
"""

from __future__ import annotations

from tornado.httputil import HTTPHeaders
from tornado.web import OutputTransform

CONTENT_SECURITY_POLICY = "; ".join([
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), usb=(), payment=()",
}


class SecurityHeaders(OutputTransform):
    """Adds ``SECURITY_HEADERS`` to the first chunk of every answer (a handler's own value wins)."""

    def transform_first_chunk(self, status_code: int, headers: HTTPHeaders, chunk: bytes,
                              finishing: bool) -> tuple[int, HTTPHeaders, bytes]:
        for name, value in SECURITY_HEADERS.items():
            if name not in headers:
                headers[name] = value
        return status_code, headers, chunk

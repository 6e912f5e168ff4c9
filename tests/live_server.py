"""The app served over real HTTP on loopback, in a background thread, for browser tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


def _closing(app: Flask):
    """The app, its response read whole and closed before werkzeug writes it.

    Werkzeug's development server skips the response's close() (and so the work the app put in
    call_on_close: sending the request's emails) when the browser resets the connection while the
    server drains the socket, as Chromium does when it follows a redirect. Gunicorn always closes.
    Reading and closing here makes the tests deterministic; the emails then go out just before the
    response rather than just after it.
    """

    def serve(environ, start_response):
        iterable = app(environ, start_response)
        try:
            body = b"".join(iterable)
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
        return [body]

    return serve


def _not_ready(environ, start_response):
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"The app is not ready yet."]


class LiveServer:
    """Binds a free port on 127.0.0.1 first, so the app can be built knowing its own base URL.

        server = LiveServer()
        app = create_app({..., "PUBLIC_BASE_URL": server.url})
        server.start(app)
        ...
        server.stop()
    """

    def __init__(self, host: str = "127.0.0.1"):
        self._server: BaseWSGIServer = make_server(host, 0, _not_ready, threaded=True)
        self._thread: threading.Thread | None = None
        self.host = host
        self.port: int = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self.app: Flask | None = None

    def start(self, app: Flask) -> LiveServer:
        self.app = app
        self._server.app = _closing(app)  # the request handler serves self.server.app
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"live-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    @classmethod
    def serving(cls, build: Callable[[str], Flask]) -> LiveServer:
        """Build the app from the base URL it will be served at, and start serving it."""
        server = cls()
        try:
            return server.start(build(server.url))
        except BaseException:
            server.stop()
            raise

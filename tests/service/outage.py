"""Database outages on demand, without stopping the shared database server.

SQLite: the file is moved away and a folder takes its place (SQLite cannot open it).
PostgreSQL: the app connects through a loopback TCP proxy; cutting it closes every
connection and refuses new ones, as a server that went down does.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``cut`` and ``restore`` switch it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            if not self._open.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for end in sockets:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


class Outage:
    """Cut and restore the database behind ``url`` (the URL the app must use)."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        parsed = make_url(database_url)
        self.proxy: TcpProxy | None = None
        if parsed.get_backend_name() == "sqlite":
            self.url = database_url
            self.path = Path(parsed.database or "")
            self.parked = tmp_path / "parked"
        else:
            self.proxy = TcpProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
            proxied = parsed.set(host="127.0.0.1", port=self.proxy.port)
            self.url = proxied.render_as_string(hide_password=False)

    def cut(self, engine: Engine) -> None:
        if self.proxy is not None:
            self.proxy.cut()
            return
        engine.dispose()  # open SQLite connections would keep the moved file
        self.parked.mkdir()
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                shutil.move(source, self.parked / source.name)
        self.path.mkdir()

    def restore(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
            return
        self.path.rmdir()
        for parked in self.parked.iterdir():
            shutil.move(parked, self.path.parent / parked.name)
        self.parked.rmdir()

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.close()

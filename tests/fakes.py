"""Fakes for installing without the real stack: tiny wheels, a hash-pinned lock of them, and a local package
index that can hold a download back (to kill an installer mid-install at a known moment)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from pathlib import Path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_wheel(folder, name: str, version: str, files: dict):
    """A pure-Python wheel of those files (path -> bytes), with the metadata installers check."""
    import base64
    import hashlib
    import zipfile
    from pathlib import Path

    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    files = dict(files)
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    wheel = Path(folder) / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


def fake_lock(packages: Path, pins: dict) -> str:
    """Fake wheels named and versioned as `pins` says (name -> version) written into `packages`, and the
    requirements lock pinning them by hash, as `make lock` writes it."""
    lines = []
    for name, version in pins.items():
        wheel = write_wheel(packages, name, version, {f"{name.replace('-', '_')}/__init__.py": b""})
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{sha256(wheel)}\n")
    return "".join(lines)


class LocalIndex:
    """A folder of wheels served over HTTP on 127.0.0.1 as a find-links page (http.server's listing). A request
    for a file in `held` waits until release(): the installer is then mid-install, connected, and stays so."""

    def __init__(self, folder: Path, held: tuple = ()):
        self.requested = threading.Event()
        self._released = threading.Event()
        index = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                if Path(self.path).name in held:
                    index.requested.set()
                    index._released.wait(timeout=120)
                super().do_GET()

            def log_message(self, *args):
                pass

        handler = functools.partial(Handler, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def release(self):
        self._released.set()

    def __exit__(self, *exc):
        self.release()
        self.server.shutdown()
        self.server.server_close()

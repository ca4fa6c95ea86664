#!/usr/bin/env python3
"""Builds the echo engine's wheel with the standard library only (no pip, no network), byte-for-byte
reproducibly: sorted entries, fixed timestamps and permissions. Usage: build_wheel.py OUT_DIR"""

import base64
import hashlib
import os
import sys
import zipfile

NAME = "echo_engine"
DIST = "echo-engine"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from echo_engine import __version__ as VERSION  # noqa: E402

EPOCH = (1980, 1, 1, 0, 0, 0)


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def main(out_dir):
    files = {}
    pkg = os.path.join(HERE, NAME)
    for fn in sorted(os.listdir(pkg)):
        if fn.endswith(".py"):
            with open(os.path.join(pkg, fn), "rb") as f:
                files[f"{NAME}/{fn}"] = f.read()
    info = f"{NAME}-{VERSION}.dist-info"
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {DIST}\nVersion: {VERSION}\n"
        "Summary: Token-in, token-out echo engine for dynamo-image examples\nRequires-Python: >=3.9\n"
    ).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: build_wheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\necho-engine = echo_engine.cli:main\n"
    files[f"{info}/top_level.txt"] = f"{NAME}\n".encode()
    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in sorted(files.items()))
    record += f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, f"{NAME}-{VERSION}-py3-none-any.whl")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as z:
        for p in sorted(files):
            zi = zipfile.ZipInfo(p, EPOCH)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_STORED
            z.writestr(zi, files[p])
    print(target)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "wheels"))

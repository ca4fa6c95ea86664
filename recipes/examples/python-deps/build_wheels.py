#!/usr/bin/env python3
"""Builds the three wheels of this example with the standard library only, byte-for-byte
reproducibly: an engine (`tally-engine`) that requires two libraries (`tally-words`,
`tally-count`), each its own wheel. Usage: build_wheels.py [OUT_DIR]"""

import base64, hashlib, os, sys, zipfile

EPOCH = (1980, 1, 1, 0, 0, 0)
WHEELS = {
    "tally_words": ("tally-words", "1.2.0", [], {"tally_words/__init__.py": "def split(text):\n    return text.split()\n"}, None),
    "tally_count": ("tally-count", "0.3.1", [], {"tally_count/__init__.py": "def count(items):\n    return len(list(items))\n"}, None),
    "tally_engine": (
        "tally-engine",
        "2.0.0",
        ["tally-words (==1.2.0)", "tally-count (==0.3.1)"],
        {
            "tally_engine/__init__.py": "__version__ = '2.0.0'\n",
            "tally_engine/cli.py": "import sys\nfrom tally_words import split\nfrom tally_count import count\n\n\ndef main():\n    args = sys.argv[1:]\n    if args[:1] == ['--version']:\n        print('tally-engine 2.0.0')\n        return 0\n    print(count(split(' '.join(args))))\n    return 0\n",
        },
        "[console_scripts]\ntally-engine = tally_engine.cli:main\n",
    ),
}


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build(mod, dist, version, requires, sources, entry, out_dir):
    files = {p: s.encode() for p, s in sources.items()}
    info = f"{mod}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\nRequires-Python: >=3.9\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    files[f"{info}/METADATA"] = meta.encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: build_wheels.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if entry:
        files[f"{info}/entry_points.txt"] = entry.encode()
    files[f"{info}/top_level.txt"] = f"{mod}\n".encode()
    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in sorted(files.items())) + f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    target = os.path.join(out_dir, f"{mod}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as z:
        for p in sorted(files):
            zi = zipfile.ZipInfo(p, EPOCH)
            zi.external_attr = 0o644 << 16
            z.writestr(zi, files[p])
    print(target, hashlib.sha256(open(target, "rb").read()).hexdigest())


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "wheels")
    os.makedirs(out, exist_ok=True)
    for mod, spec in WHEELS.items():
        build(mod, *spec, out)

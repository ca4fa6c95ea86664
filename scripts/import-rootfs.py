#!/usr/bin/env python3
"""Turns a root filesystem folder into a local image for any architecture: a docker-archive
(one layer, a config that names the architecture) piped into `docker load`. Needed because
`docker import --platform` is ignored by engines without experimental features.

usage: import-rootfs.py ROOTFS REF ARCH   (e.g. /tmp/root dynamo-image-base/x:arm64 arm64)
"""
import hashlib, io, json, os, subprocess, sys, tarfile, tempfile

rootfs, ref, arch = sys.argv[1:4]
with tempfile.TemporaryDirectory() as tmp:
    layer = os.path.join(tmp, "layer.tar")
    # The folder as one layer, numeric owners kept, as `tar -C ROOTFS -c .` would write it.
    subprocess.run(["tar", "-C", rootfs, "--numeric-owner", "-cf", layer, "."], check=True)
    h = hashlib.sha256()
    with open(layer, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    diff_id = "sha256:" + h.hexdigest()
    config = {
        "architecture": arch,
        "os": "linux",
        **({"variant": "v8"} if arch == "arm64" else {}),
        "created": "1970-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/bash"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": f"debootstrap --arch={arch} (dynamo-image env:up)"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [ref], "Layers": [diff_id[7:] + "/layer.tar"]}]).encode()
    archive = os.path.join(tmp, "image.tar")
    with tarfile.open(archive, "w") as t:
        for name, data in ((config_name, config_bytes), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        t.add(layer, arcname=diff_id[7:] + "/layer.tar")
    with open(archive, "rb") as f:
        subprocess.run(["docker", "load", "-q"], stdin=f, check=True, stdout=subprocess.DEVNULL)
print(f"loaded {ref} ({arch})")

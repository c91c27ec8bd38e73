"""Fetch the web pages' JavaScript at pinned versions from the npm registry into the package.

The pages never load anything from a CDN: each asset is a file under
``src/cxloop/web/static/vendor/``, copied from the package tarball whose sha256 is pinned below
(a changed tarball stops the script before anything is written). ``VENDORED.json`` beside the
files records package, version, file and the file's sha256; ``tests/web/test_foundation.py``
checks the committed files against it. Uses ``npm pack NAME@VERSION`` when npm is installed,
else the tarball URL from ``https://registry.npmjs.org/NAME/VERSION``.

    .venv/bin/python scripts/vendor_assets.py           # fetch, check, copy, write the manifest
    .venv/bin/python scripts/vendor_assets.py --check   # only compare the files to the manifest

To move a version: change it here, run once with ``--trust`` to print the new tarball hash,
read the package's changelog, pin the hash, run again and commit.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "src" / "cxloop" / "web" / "static" / "vendor"
MANIFEST = VENDOR / "VENDORED.json"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Asset:
    """One file taken from one pinned npm package tarball."""

    package: str
    version: str
    tarball_sha256: str
    member: str  # path inside the tarball
    file: str  # name under static/vendor/
    licence_member: str = "package/LICENSE"


ASSETS = (
    Asset(
        package="echarts",
        version="6.1.0",
        tarball_sha256="681aff88cc1038c3fa941a3a53d1b177a52250b05335efc607d6105ae13be481",
        member="package/dist/echarts.min.js",
        file="echarts.min.js",
    ),
    # htmx 4.0 is the registry's `latest` (stable since 2026-09); 2.0.11 is the last 2.x.
    Asset(
        package="htmx.org",
        version="4.0.1",
        tarball_sha256="5fba65616ca148a86d377e9771bcada7f35faee3558651feb929eea425e13b3c",
        member="package/dist/htmx.min.js",
        file="htmx.min.js",
    ),
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_tarball(asset: Asset) -> bytes:
    """The package tarball: ``npm pack`` when npm exists, else straight from the registry."""
    npm = shutil.which("npm")
    if npm:
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run(
                [npm, "pack", f"{asset.package}@{asset.version}", "--silent"],
                cwd=folder,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            (tarball,) = Path(folder).glob("*.tgz")
            return tarball.read_bytes()
    url = f"{REGISTRY}/{asset.package}/{asset.version}"
    with urllib.request.urlopen(url, timeout=60) as response:
        meta = json.load(response)
    with urllib.request.urlopen(meta["dist"]["tarball"], timeout=120) as response:
        return bytes(response.read())


def extract(tarball: bytes, member: str) -> bytes | None:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        try:
            handle = archive.extractfile(member)
        except KeyError:
            return None
        return handle.read() if handle else None


def vendor(*, trust: bool) -> int:
    """Fetch each asset, refuse a tarball whose hash is not the pin, write files + manifest."""
    VENDOR.mkdir(parents=True, exist_ok=True)
    manifest = []
    for asset in ASSETS:
        tarball = fetch_tarball(asset)
        digest = sha256(tarball)
        if digest != asset.tarball_sha256 and not trust:
            print(
                f"{asset.package}@{asset.version}: tarball sha256 is {digest}, "
                f"pinned {asset.tarball_sha256}; nothing written",
                file=sys.stderr,
            )
            return 1
        data = extract(tarball, asset.member)
        if data is None:
            name = f"{asset.package}@{asset.version}"
            print(f"{name}: no {asset.member} in the tarball", file=sys.stderr)
            return 1
        (VENDOR / asset.file).write_bytes(data)
        licence = extract(tarball, asset.licence_member)
        if licence is not None:
            (VENDOR / f"{Path(asset.file).name.split('.')[0]}.LICENSE.txt").write_bytes(licence)
        manifest.append(
            {
                "package": asset.package,
                "version": asset.version,
                "file": asset.file,
                "sha256": sha256(data),
                "tarball_sha256": digest,
                "source": f"{REGISTRY}/{asset.package}/-/"
                f"{asset.package.split('/')[-1]}-{asset.version}.tgz#{asset.member}",
            }
        )
        print(f"{asset.package}@{asset.version} → vendor/{asset.file} ({len(data):,} bytes)")
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return 0


def check() -> int:
    """Compare the committed files with the manifest (no network)."""
    problems = []
    for entry in json.loads(MANIFEST.read_text(encoding="utf-8")):
        path = VENDOR / entry["file"]
        if not path.exists():
            problems.append(f"{entry['file']}: missing")
        elif sha256(path.read_bytes()) != entry["sha256"]:
            problems.append(f"{entry['file']}: sha256 differs from VENDORED.json")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{MANIFEST.name}: every vendored file matches its sha256")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare files to the manifest only")
    parser.add_argument(
        "--trust", action="store_true", help="accept a tarball hash that differs from the pin"
    )
    args = parser.parse_args()
    return check() if args.check else vendor(trust=args.trust)


if __name__ == "__main__":
    sys.exit(main())

"""Refresh the pages' third-party browser assets from the npm registry: ``make vendor``.

``app/web/static/vendor/VERSIONS.json`` names each package, its version and licence, and the files taken
from its tarball. For each package this runs ``npm pack NAME@VERSION`` (npm checks the tarball against the
registry's integrity hash), checks that hash against the one recorded (a changed tarball for the same version
is refused), and writes the files under ``app/web/static/vendor/`` with their SHA-256 recorded beside them.
Nothing runs at run time: the files are committed, and tests/web/test_assets.py checks them against the
recorded checksums. To move to another version, change ``version`` and clear ``integrity``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "app" / "web" / "static" / "vendor"
MANIFEST = VENDOR / "VERSIONS.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def refresh(name: str, entry: dict[str, object], work: Path) -> None:
    version = entry["version"]
    packed = json.loads(
        subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(work)],
            check=True,
            capture_output=True,
            text=True,
            cwd=work,
        ).stdout
    )[0]
    recorded = entry.get("integrity")
    if recorded and recorded != packed["integrity"]:
        sys.exit(f"{name}@{version}: the registry's tarball has integrity {packed['integrity']}, not {recorded}")
    entry["integrity"] = packed["integrity"]
    files = entry["files"]
    assert isinstance(files, dict)
    with tarfile.open(work / packed["filename"]) as tarball:
        for target, spec in files.items():
            member = tarball.extractfile(f"package/{spec['from']}")
            if member is None:
                sys.exit(f"{name}@{version}: no file {spec['from']} in the tarball")
            data = member.read()
            path = VENDOR / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            spec["sha256"] = sha256(data)
            print(f"{name}@{version}: {spec['from']} -> {path.relative_to(ROOT)} ({len(data)} bytes)")


def main() -> None:
    manifest = json.loads(MANIFEST.read_text())
    with tempfile.TemporaryDirectory() as work:
        for name, entry in manifest.items():
            refresh(name, entry, Path(work))
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Finish Zappa's package: bytecode compiled in, nothing the runtime does not need.

    python -m deploy.package dist/voj-prod.raw.zip dist/voj-prod.zip

Zappa leaves bytecode out and /var/task is read-only, so every cold start would compile the
whole project and Django again. Compiling here with unchecked-hash invalidation lets Python use
the .pyc files without even a stat of the sources.

The package carries its own boto3 and botocore (the versions the tests ran against, rather than
whatever the runtime has that week), with botocore's models cut to the services voj calls:
building the first client lists every service directory botocore has (over 400) twice, about
20 ms of each cold start.
"""

from __future__ import annotations

import compileall
import py_compile
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from voj.aws import RUNTIME_SERVICES

LIMIT_BYTES = 45 * 1024 * 1024  # zappa rollback re-uploads the zip directly: 50 MB at most
# botocore's credential chain builds an STS client when a profile assumes a role.
SDK_SERVICES = ("sts",)


def botocore_models_trim(root: Path) -> None:
    """Keep the models of the services voj calls (and STS), and no others."""
    data = root / "botocore" / "data"
    if not data.is_dir():
        raise SystemExit("botocore is not in the package: it must not be excluded")
    keep = {*RUNTIME_SERVICES, *SDK_SERVICES}
    for entry in data.iterdir():
        if entry.is_dir() and entry.name not in keep:
            shutil.rmtree(entry)
    if missing := keep - {entry.name for entry in data.iterdir()}:
        raise SystemExit(f"botocore has no model for {', '.join(sorted(missing))}")


def finish(raw: Path, target: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(raw) as source:
            source.extractall(root)
        botocore_models_trim(root)
        for stale in root.rglob("__pycache__"):
            for file in stale.iterdir():
                file.unlink()
        ok = compileall.compile_dir(
            root,
            quiet=1,
            workers=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not ok:
            raise SystemExit("bytecode compilation failed")
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
                    info.compress_type = zipfile.ZIP_DEFLATED
                    out.writestr(info, path.read_bytes(), compresslevel=9)
    size = target.stat().st_size
    print(f"{target}: {size / 1024 / 1024:.1f} MiB")
    if size > LIMIT_BYTES:
        raise SystemExit(f"{target} is over {LIMIT_BYTES // 1024 // 1024} MiB")
    return size


if __name__ == "__main__":
    finish(Path(sys.argv[1]), Path(sys.argv[2]))

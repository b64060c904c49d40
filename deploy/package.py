"""Finish Zappa's package: bytecode compiled in, nothing the runtime does not need.

    python -m deploy.package dist/voj-prod.raw.zip dist/voj-prod.zip

Zappa leaves bytecode out and /var/task is read-only, so every cold start would compile the
whole project and Django again. Compiling here with unchecked-hash invalidation lets Python use
the .pyc files without even a stat of the sources.
"""

from __future__ import annotations

import compileall
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path

LIMIT_BYTES = 45 * 1024 * 1024  # zappa rollback re-uploads the zip directly: 50 MB at most


def finish(raw: Path, target: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(raw) as source:
            source.extractall(root)
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

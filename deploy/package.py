"""Finish Zappa's package: bytecode compiled in, nothing the runtime does not need.

    python -m deploy.package dist/voj-prod.raw.zip dist/voj-prod.zip

Zappa leaves bytecode out and /var/task is read-only, so every cold start would compile the
whole project and Django again. Compiling here with unchecked-hash invalidation lets Python use
the .pyc files without even a stat of the sources.

The package carries its own boto3 and botocore (the versions the tests ran against, rather than
whatever the runtime has that week), with botocore's data cut to the services voj calls:
building the first client lists every service directory botocore has (over 400) twice, about
20 ms of each cold start, and parses the endpoint table of every service (1.2 MB), about 20 ms.

One line of a dependency is changed (SOURCE_PATCHES): it would load Django's test framework into
every cold start.
"""

from __future__ import annotations

import compileall
import gzip
import json
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


def endpoint_prefix(model_dir: Path) -> str:
    """The name botocore looks a service up by in endpoints.json (from its newest model)."""
    version = max(path for path in model_dir.iterdir() if path.is_dir())
    for name in ("service-2.json", "service-2.json.gz"):
        if (version / name).exists():
            raw = (version / name).read_bytes()
            model = json.loads(gzip.decompress(raw) if name.endswith(".gz") else raw)
            return model["metadata"]["endpointPrefix"]
    raise SystemExit(f"no service model in {version}")


def endpoints_keep(endpoints: dict, prefixes: set[str]) -> dict:
    """endpoints.json with every partition whole but its services cut to prefixes.

    botocore resolves a service's endpoint from the partition and that service's entry only, so
    the services kept resolve exactly as before (tests/deploy/test_package.py)."""
    return {
        **endpoints,
        "partitions": [
            {
                **partition,
                "services": {
                    name: entry for name, entry in partition["services"].items() if name in prefixes
                },
            }
            for partition in endpoints["partitions"]
        ],
    }


def botocore_endpoints_trim(root: Path) -> None:
    """Cut botocore's endpoint table to the services whose models the package keeps."""
    data = root / "botocore" / "data"
    prefixes = {endpoint_prefix(entry) for entry in data.iterdir() if entry.is_dir()}
    table = data / "endpoints.json"
    trimmed = endpoints_keep(json.loads(table.read_bytes()), prefixes)
    table.write_text(json.dumps(trimmed, separators=(",", ":")))


# (file in the package, line as released, line as shipped). Each line must occur exactly once,
# so an upgrade that changes the file stops the build until the patch is reviewed.
SOURCE_PATCHES = (
    # djangorestframework-simplejwt 5.5.1 (the newest release) takes the setting_changed signal
    # from django.test.signals, and importing that loads Django's whole test framework (test
    # client, test cases, test servers) into every cold start: about 15 ms. django.core.signals
    # defines the very same Signal object (django.test.signals re-exports it), as DRF itself
    # imports it; upstream: jazzband/djangorestframework-simplejwt#969.
    (
        "rest_framework_simplejwt/settings.py",
        "from django.test.signals import setting_changed",
        "from django.core.signals import setting_changed",
    ),
)


# What Lambda's python3.12 runtime provides and the package must not shadow: a copy of
# SnapStart's hook registry first on the path would hold voj's hooks (voj/snapstart.py) where
# the runtime never looks for them. A dev dependency only, so Zappa finds it only if someone
# packages from the development virtualenv.
RUNTIME_PROVIDED = ("snapshot_restore_py.py",)


def runtime_provided_drop(root: Path) -> None:
    for name in RUNTIME_PROVIDED:
        (root / name).unlink(missing_ok=True)


# Zappa leaves every *.dist-info out of the package, but psycopg reads its own version from its
# metadata at import, and Django refuses a psycopg whose version reads 0.0.0.0. These
# distributions get their METADATA back, copied from the virtualenv Zappa packaged.
METADATA_KEPT = ("psycopg", "psycopg_binary")
LAMBDA_SITE_PACKAGES = (
    Path(__file__).resolve().parent.parent / ".venv-lambda" / "lib" / "python3.12" / "site-packages"
)


def metadata_restore(root: Path, site_packages: Path = LAMBDA_SITE_PACKAGES) -> None:
    for name in METADATA_KEPT:
        found = sorted(site_packages.glob(f"{name}-*.dist-info"))
        if len(found) != 1:
            raise SystemExit(f"expected one {name} distribution in {site_packages}, found {found}")
        (root / found[0].name).mkdir(exist_ok=True)
        shutil.copyfile(found[0] / "METADATA", root / found[0].name / "METADATA")


def source_patches_apply(root: Path) -> None:
    for relative, released, shipped in SOURCE_PATCHES:
        path = root / relative
        text = path.read_text() if path.exists() else ""
        if text.count(released) != 1:
            raise SystemExit(f"{relative} changed upstream: review SOURCE_PATCHES")
        path.write_text(text.replace(released, shipped))


def finish(raw: Path, target: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(raw) as source:
            source.extractall(root)
        botocore_models_trim(root)
        botocore_endpoints_trim(root)
        source_patches_apply(root)
        metadata_restore(root)
        runtime_provided_drop(root)
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

"""A release of the function, in the one safe order.

    python -m deploy release STAGE [--base-url URL] [--no-smoke]

1. package: dist/voj-STAGE.zip exists and is this tree's code with this zappa_settings.json's
   environment (else `make package` first);
2. migrate: the operator database's migrations, run from this tree against the stage (the SQLite
   file in the bucket) while the old code still serves: migrations must be backward compatible,
   the old code keeps working on the new schema until the switch. A PostgreSQL this host cannot
   reach (in the database stack's VPC) is migrated inside the function right after the update
   instead (deploy/function_task.py), and the release says so. Then the catalogue's data
   step, `manage.py backfill_publishing` (books written before publishing existed get their
   status; idempotent, and the old code ignores what it writes) and `manage.py backfill_search`
   (their search terms; docs/search.md);
3. update: the package's git revision recorded by its code hash (deploy/live.py), then
   `zappa update STAGE --zip dist/voj-STAGE.zip` (Zappa's own build would lack the bytecode,
   the trimmed botocore and the simplejwt patch), then `backfill_search` and
   `backfill_publishing` again for the books the old code wrote meanwhile (their search terms,
   and their heads' copy of the owner). If Zappa fails, the function says what serves: this package
   or the previous release, and the rollback that returns to it;
4. throttle: the API stage's rate and burst limits again (Zappa's update does not keep them);
5. health: GET /api/v1/health/detailed answers 200;
6. smoke: `manage.py smoke` (VOJ_SMOKE_USERNAME / VOJ_SMOKE_PASSWORD, an editor's account).

It stops at the first failure and says what state the stage is in.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from deploy import function_task, http_api, live
from deploy.configure import stage_settings
from deploy.shared import REGION, ROOT, say
from deploy.stage_secrets import parameter
from deploy.throttle import stage_throttle
from voj.opsdb.switch_state import ACTIVE_SECRET

PROJECT_DIRS = ("voj", "books", "streaming", "listening")


def package_path(stage: str) -> Path:
    return ROOT / "dist" / f"voj-{stage}.zip"


def _project_sources(root: Path) -> dict[str, bytes]:
    files = {}
    for top in PROJECT_DIRS:
        for path in (root / top).rglob("*.py"):
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    files["manage.py"] = (root / "manage.py").read_bytes()
    return files


def check_package(stage: str, package: Path | None = None, root: Path = ROOT) -> None:
    """The zip holds this tree's code and the stage's environment, or the release stops."""
    package = package or package_path(stage)
    if not package.exists():
        raise SystemExit(f"{package} is missing: run `make package STAGE={stage}` first")
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        packed = {
            name: archive.read(name)
            for name in names
            if name == "manage.py" or (name.split("/")[0] in PROJECT_DIRS and name.endswith(".py"))
        }
        settings_py = archive.read("zappa_settings.py").decode()
    sources = _project_sources(root)
    differ = sorted(
        name for name in set(sources) | set(packed) if sources.get(name) != packed.get(name)
    )
    if differ:
        raise SystemExit(
            f"{package.name} is not this tree's code ({', '.join(differ[:5])}"
            f"{' ...' if len(differ) > 5 else ''}): run `make package STAGE={stage}`"
        )
    line = next(x for x in settings_py.splitlines() if x.startswith("ENVIRONMENT_VARIABLES="))
    packed_env = ast.literal_eval(line.split("=", 1)[1])
    packed_env.pop("AWS_REGION", None)  # Zappa adds it
    wanted = stage_settings(stage, root / "zappa_settings.json").get("environment_variables", {})
    if packed_env != wanted:
        changed = sorted(
            k for k in set(packed_env) | set(wanted) if packed_env.get(k) != wanted.get(k)
        )
        raise SystemExit(
            f"{package.name} was built with other environment variables ({', '.join(changed)}) "
            f"than zappa_settings.json [{stage}]: run `make package STAGE={stage}`"
        )
    say(f"package {package.name}: this tree's code and zappa_settings.json [{stage}]")


def migrate_environment(stage: str) -> dict[str, str]:
    """What `manage.py migrate` needs to reach the stage's operator database from here."""
    env = {**os.environ, **stage_settings(stage)["environment_variables"]}
    env.setdefault("AWS_DEFAULT_REGION", REGION)
    # A fresh local copy: the engine downloads the newest published file into it.
    env.setdefault("VOJ_OPSDB_PATH", tempfile.mkdtemp(prefix="voj-migrate-") + "/operator.sqlite3")
    if os.environ.get("VOJ_AWS_ENDPOINT_URL"):
        env["VOJ_AWS_ENDPOINT_URL"] = os.environ["VOJ_AWS_ENDPOINT_URL"]
    return env


def reachable_from_here(stage: str) -> bool:
    """Whether this host reaches the stage's operator database: always the S3 file; a
    PostgreSQL (DATABASE_URL) only from inside its VPC."""
    url = parameter(stage, ACTIVE_SECRET)
    if url is None:
        return True
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 5432), timeout=3):
            return True
    except OSError:
        return False


def migrate(stage: str) -> bool:
    """The operator database's migrations and the catalogue's data steps. Returns False when
    the migrations could not run from here and must run inside the function after the update."""
    env = migrate_environment(stage)
    here = reachable_from_here(stage)
    if here:
        _run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            env=env,
            failed="the old code still serves; nothing else changed",
        )
    else:
        say(
            "the operator database (PostgreSQL) answers only inside its VPC: its migrations run "
            "inside the function right after the update"
        )
    # Before the switch, so listeners never meet the old books as drafts. A book the old code
    # creates after this reads as a draft until the next release runs it again.
    _run(
        [sys.executable, "manage.py", "backfill_publishing"],
        env=env,
        failed="the schema is migrated (backward compatible); the old code still serves. "
        "Run the release again",
    )
    backfill_search(env)
    return here


def migrate_in_function(stage: str) -> None:
    """The deployed code's migrations, run by the function on its own database."""
    answer = function_task.invoke(stage, "migrate")
    if answer["pending"]:
        raise SystemExit(f"{answer['pending']} migration(s) still pending inside the function")
    say(f"inside the function: {len(answer['applied'])} migration(s) applied ({answer['active']})")


def migrate_command(stage: str) -> None:
    """`python -m deploy migrate STAGE`: from here, or inside the function when only it reaches
    the database (then the deployed code's migrations)."""
    if not migrate(stage):
        migrate_in_function(stage)


def backfill_search(env: dict[str, str]) -> None:
    """Search terms for the books the old code wrote: before the switch, so search finds them
    from the first request, and after it, for the books it wrote meanwhile."""
    _run(
        [sys.executable, "manage.py", "backfill_search"],
        env=env,
        failed="books the old code wrote are not found by search yet (nothing else changed). "
        "Run the release again",
    )


def update(stage: str) -> None:
    """`zappa update` with the checked package; when it fails, what serves is read back from the
    function (Zappa may have uploaded, published and moved the alias before failing)."""
    package = package_path(stage)
    sha256 = live.record_release(stage, package)
    before = live.live(stage)
    if not live.run_zappa("update", stage, "--zip", str(package)):
        raise SystemExit(live.after_failed_update(stage, before, sha256))
    env = migrate_environment(stage)
    backfill_search(env)
    # The heads the old code created since the migrate step lack the owner copy the listener's
    # hot paths read (books/repository/dynamodb/access.py; they fall back to the book item
    # meanwhile): after this, every head has it. Idempotent, like every step of it.
    _run(
        [sys.executable, "manage.py", "backfill_publishing"],
        env=env,
        failed="the new code serves; heads the old code wrote since the migrate step are read "
        "with their book item until `python -m deploy migrate STAGE` runs",
    )


def throttle(stage: str) -> None:
    stage_throttle(stage)


def api_url(stage: str) -> str:
    """The execute-api URL of the stage's HTTP API (Zappa names the API after the function and
    its stage after the Zappa stage)."""
    return f"https://{http_api.api_id(stage)}.execute-api.{REGION}.amazonaws.com/{stage}"


def health(base_url: str, attempts: int = 5) -> None:
    url = base_url.rstrip("/") + "/api/v1/health/detailed"
    status: int | str | None = None
    failed: list[str] = []
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status, failed = error.code, _failed_checks(error.read())
        except OSError as error:
            status = str(error)
        if status == 200:
            say(f"health {url}: 200")
            return
        time.sleep(min(2**attempt, 10))
    pending = [item for item in failed if item.startswith("migrations: ")]
    raise SystemExit(
        f"health {url}: {status}{' (' + '; '.join(failed) + ')' if failed else ''}. "
        + (
            "The database lacks the code's migrations: run `python -m deploy migrate STAGE` "
            "from this tree. "
            if pending
            else ""
        )
        + "The new code is deployed: roll back with `python -m deploy rollback STAGE` "
        "(docs/runbook.md) or fix forward"
    )


def _failed_checks(body: bytes) -> list[str]:
    """The failed checks of a /health/detailed answer, with the migrations it names missing."""
    try:
        checks = json.loads(body)["checks"]
    except (ValueError, KeyError, TypeError):
        return []
    return [
        f"{name}: {', '.join(check.get('pending', [])) or check.get('error', 'error')}"
        for name, check in checks.items()
        if isinstance(check, dict) and check.get("status") == "error"
    ]


def smoke(base_url: str) -> None:
    _run(
        [sys.executable, "manage.py", "smoke", "--base-url", base_url],
        env={**os.environ, "VOJ_ENV": "local"},
        failed="the new code is deployed and healthy but the smoke test failed: see above; "
        "roll back with `python -m deploy rollback STAGE` if listeners are affected",
    )


def _run(command: list[str], *, env: dict[str, str], failed: str) -> None:
    say("$ " + " ".join(command))
    if subprocess.run(command, cwd=ROOT, env=env, check=False).returncode != 0:
        raise SystemExit(f"failed: {failed}")


def release(stage: str, *, base_url: str | None = None, run_smoke: bool = True) -> list[str]:
    """The steps in order; returns their names as done."""
    if run_smoke and not (
        os.environ.get("VOJ_SMOKE_USERNAME") and os.environ.get("VOJ_SMOKE_PASSWORD")
    ):
        raise SystemExit(
            "set VOJ_SMOKE_USERNAME and VOJ_SMOKE_PASSWORD (an editor) for the smoke step, "
            "or pass --no-smoke"
        )
    done: list[str] = []
    migrated_here = [True]

    def updated() -> None:
        update(stage)
        if migrated_here[0] is False:
            migrate_in_function(stage)

    steps: list[tuple[str, Callable[[], None]]] = [
        ("package", lambda: check_package(stage)),
        ("migrate", lambda: migrated_here.__setitem__(0, migrate(stage))),
        ("update", updated),
        ("throttle", lambda: throttle(stage)),
    ]
    for name, step in steps:
        say(f"== {name}")
        step()
        done.append(name)
    url = base_url or api_url(stage)
    say("== health")
    health(url)
    done.append("health")
    if run_smoke:
        say("== smoke")
        smoke(url)
        done.append("smoke")
    say(f"released {stage}: {', '.join(done)}")
    return done

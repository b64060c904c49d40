"""Cold start and warm latency of the packaged handler, against a hello world built the same way.

Both packages run through Zappa's handler in fresh interpreters that see only the package and
what the Lambda runtime provides (deploy/local/lambda_harness.py); AWS is a moto server on
127.0.0.1 holding the core stack, the secrets, the operator database and a published book.
"""

from __future__ import annotations

import compileall
import json
import os
import platform
import py_compile
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

from books.domain import Book, BookStatus, Chapter, ChapterStatus, utcnow
from books.repository.dynamodb import DynamoDBRepository
from deploy.local.lambda_harness import (
    api_gateway_event,
    invoke,
    moto_client,
    prod_on_moto,
    runtime_dir,
    unpack,
)

ROOT = Path(__file__).resolve().parents[2]
COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", 25))
WARM_REQUESTS = 200
PROGRESS_CHAPTER_SECONDS = 4 * 3600.0

HELLO_SETTINGS = """
SECRET_KEY = "hello-world-benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "hello.urls"
DATABASES = {}
USE_TZ = True
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
"""
HELLO_URLS = """
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


class Hello(APIView):
    def get(self, request):
        return Response({"status": "ok"})


urlpatterns = [path("api/v1/health", Hello.as_view()), path("api/v1/hello", Hello.as_view())]
"""


def hello_package(voj_task: Path, target: Path) -> Path:
    """The same Zappa handler and the same Django and DRF, with a one-view project."""
    shutil.copytree(voj_task, target, symlinks=True)
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    for project in ("voj", "books", "streaming", "listening", "deploy"):
        shutil.rmtree(target / project)
    (target / "hello").mkdir()
    (target / "hello" / "__init__.py").write_text("")
    (target / "hello" / "settings.py").write_text(HELLO_SETTINGS)
    (target / "hello" / "urls.py").write_text(HELLO_URLS)
    settings_py = target / "zappa_settings.py"
    text = settings_py.read_text()
    text = re.sub(r"ENVIRONMENT_VARIABLES=\{.*\}", "ENVIRONMENT_VARIABLES={}", text)
    text = text.replace("DJANGO_SETTINGS='voj.settings'", "DJANGO_SETTINGS='hello.settings'")
    settings_py.write_text(text)
    compileall.compile_dir(
        target,
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    return target


def prepare_aws(endpoint: str, workdir: Path) -> tuple[dict[str, str], str, BenchBook]:
    """Core stack, secrets, the operator database with one user, a published book, a token."""
    env = prod_on_moto(endpoint, ROOT / "deploy" / "stack.yaml")
    manage_env = {
        **os.environ,
        **env,
        "VOJ_ENV": "production",
        "VOJ_SECRETS": "/voj/prod/",
        "VOJ_STORAGE": "s3",
        "VOJ_DATA_BACKEND": "dynamodb",
        "VOJ_MEDIA_BUCKET": "voj-audiobooks-prod",
        "VOJ_BOOKS_TABLE": "voj-books-prod",
        "VOJ_CHAPTERS_TABLE": "voj-audio-chapters-prod",
        "VOJ_LISTENING_TABLE": "voj-listening-prod",
        "VOJ_OPSDB_PATH": str(workdir / "ops.sqlite3"),
        "BENCH_PASSWORD": secrets.token_urlsafe(16),
    }
    return env, operator_token(manage_env), bench_book(endpoint)


def operator_token(manage_env: dict[str, str]) -> str:
    """An access token of a new operator, `bench`, in the migrated operator database."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=manage_env, check=True)
    subprocess.run(
        [*manage, "create_operator", "--username", "bench", "--password-env", "BENCH_PASSWORD"],
        env=manage_env,
        check=True,
        capture_output=True,
    )
    printed = subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model as m;"
            "from rest_framework_simplejwt.tokens import AccessToken as t;"
            "from datetime import timedelta as d;"
            "a = t.for_user(m().objects.get(username='bench'));"
            # Valid for the whole bench: runs under callgrind outlast the 15-minute default.
            "a.set_exp(lifetime=d(hours=6));"
            "print(a)",
        ],
        env=manage_env,
        check=True,
        capture_output=True,
        text=True,
    )
    return printed.stdout.strip().splitlines()[-1]


class BenchBook(NamedTuple):
    book_id: str
    stream_chapter_id: str  # a short ready chapter, streamed
    progress_chapter_id: str  # a long one, the last ready, where progress is reported


def bench_book(endpoint: str) -> BenchBook:
    """A published book with two ready chapters in the catalogue's tables on moto: what a
    listener plays and reports progress in."""
    repository = DynamoDBRepository(
        client=moto_client(endpoint, "dynamodb"),
        books_table="voj-books-prod",
        chapters_table="voj-audio-chapters-prod",
    )
    book = repository.book_create(
        Book(
            title="Bench",
            author="bench",
            owner=1,
            status=BookStatus.PUBLISHED,
            published_at=utcnow(),
        )
    )
    chapter_ids = []
    for number, duration in ((1, 2.046), (2, PROGRESS_CHAPTER_SECONDS)):
        chapter = Chapter(
            book_id=book.id,
            number=number,
            title="Bench",
            status=ChapterStatus.READY,
            content_type="audio/mp4",
            size_bytes=9342,
            duration_seconds=duration,
            revision="bench0001",
        )
        key = f"media/books/{book.id}/chapters/{chapter.id}-bench0001.m4a"
        chapter_ids.append(repository.chapter_create(chapter.replace(object_key=key)).id)
    return BenchBook(book.id, *chapter_ids)


def progress_events(book: BenchBook, token: str, count: int) -> list[dict]:
    """``count`` progress reports of one listener, each newer and further than the one before:
    every one a real write (a conditional UpdateItem), none near the chapter's end (which would
    read the book's chapters to decide whether it finishes the book)."""
    start = utcnow() - timedelta(days=1)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return [
        api_gateway_event(
            f"/api/v1/me/progress/{book.book_id}",
            method="PUT",
            headers=headers,
            body=json.dumps(
                {
                    "chapter_id": book.progress_chapter_id,
                    "position_seconds": 10.0 + number * 1.5,
                    "updated_at": (start + timedelta(seconds=number)).isoformat(),
                    "device": "Pixel 8",
                }
            ),
        )
        for number in range(count)
    ]


def cold_start(task: Path, runtime: Path, env: dict[str, str], event: dict) -> float:
    """Process start to the first response."""
    first = invoke(task, runtime, [event], env)[0]
    assert first["status"] == 200, first
    return first["since_start"]


def warm(
    task: Path,
    runtime: Path,
    env: dict[str, str],
    event: dict | list[dict],
    *,
    zero_latency: bool = False,
) -> tuple[list[float], list[float], float, list[dict]]:
    """Each warm request's time and CPU time, how long one full garbage collection takes, and
    the measured answers. ``event`` is sent WARM_REQUESTS + 2 times, or is the list of events
    to send. With zero_latency, AWS answers every measured request from the answers moto gave to
    the request before them (deploy/local/lambda_harness.py), so the times are voj's own."""
    events = [event] * (WARM_REQUESTS + 2) if isinstance(event, dict) else event
    if zero_latency:
        env = {**env, "HARNESS_REPLAY_FROM": "2"}
    *results, process = invoke(task, runtime, events, env)
    assert all(r["status"] == 200 for r in results), next(r for r in results if r["status"] != 200)
    measured = results[2:]  # the first is the cold start, the second records AWS's answers
    if zero_latency:
        sent = sum(r["aws_requests_sent"] for r in measured)
        assert sent == 0, f"{sent} AWS requests went over the wire while replaying"
    return (
        [r["seconds"] for r in measured],
        [r["cpu_seconds"] for r in measured],
        process["gc"]["full_collection_seconds"],
        measured,
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


@dataclass(frozen=True)
class Latency:
    """Seconds: each cold start and warm request measured, and one full collection each."""

    voj_cold: list[float]
    stream_cold: list[float]
    hello_cold: list[float]
    voj_warm: list[float]
    voj_own: list[float]
    voj_own_cpu: list[float]
    progress_own: list[float]
    progress_own_cpu: list[float]
    hello_warm: list[float]
    voj_collection: float
    hello_collection: float


@dataclass(frozen=True)
class Warm:
    """The unpacked package, its runtime and AWS prepared: what a warm measure sends."""

    task: Path
    runtime: Path
    env: dict[str, str]
    token: str
    book: BenchBook

    def stream(self) -> dict:
        return api_gateway_event(
            f"/api/v1/books/{self.book.book_id}/chapters/{self.book.stream_chapter_id}/stream-url",
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def events(self, count: int, *, progress: bool = False) -> list[dict]:
        """``count`` stream-url requests, or progress reports each taking the write path."""
        if progress:
            return progress_events(self.book, self.token, count)
        return [self.stream()] * count


def prepare_warm(zip_path: Path, endpoint: str, work: Path) -> Warm:
    """voj's package unpacked into ``work`` and AWS prepared at ``endpoint``."""
    task = unpack(zip_path, work / "voj-task")
    runtime = runtime_dir(work / "runtime")
    env, token, book = prepare_aws(endpoint, work)
    return Warm(task, runtime, env, token, book)


@dataclass(frozen=True)
class Own:
    """Seconds: voj's own time (AWS at zero latency) and CPU time per warm request."""

    stream: list[float]
    stream_cpu: list[float]
    progress: list[float]
    progress_cpu: list[float]


def measure_own(warm_state: Warm) -> Own:
    """The warm stream-url and progress write with AWS answering at zero latency."""
    stream, stream_cpu, _, _ = warm(
        warm_state.task, warm_state.runtime, warm_state.env, warm_state.stream(), zero_latency=True
    )
    reports = warm_state.events(WARM_REQUESTS + 2, progress=True)
    progress, progress_cpu, _, answers = warm(
        warm_state.task, warm_state.runtime, warm_state.env, reports, zero_latency=True
    )
    # Each measured report took the write path: it became latest (and furthest).
    assert all(json.loads(answer["body"])["applied"] for answer in answers), answers[0]
    return Own(stream, stream_cpu, progress, progress_cpu)


def measure(zip_path: Path, endpoint: str, work: Path) -> Latency:
    """Both packages unpacked into ``work``, AWS prepared at ``endpoint``, then measured."""
    prepared = prepare_warm(zip_path, endpoint, work)
    voj, runtime, env = prepared.task, prepared.runtime, prepared.env
    hello = hello_package(voj, work / "hello-task")
    health = api_gateway_event("/api/v1/health")
    stream = prepared.stream()
    # Alternated, so drift in the machine's load touches all alike.
    voj_cold, stream_cold, hello_cold = [], [], []
    for _ in range(COLD_RUNS):
        voj_cold.append(cold_start(voj, runtime, env, health))
        stream_cold.append(cold_start(voj, runtime, env, stream))
        hello_cold.append(cold_start(hello, runtime, {}, health))
    voj_warm, _, voj_collection, _ = warm(voj, runtime, env, stream)
    own = measure_own(prepared)
    hello_warm, _, hello_collection, _ = warm(
        hello, runtime, {}, api_gateway_event("/api/v1/hello")
    )
    return Latency(
        voj_cold=voj_cold,
        stream_cold=stream_cold,
        hello_cold=hello_cold,
        voj_warm=voj_warm,
        voj_own=own.stream,
        voj_own_cpu=own.stream_cpu,
        progress_own=own.progress,
        progress_own_cpu=own.progress_cpu,
        hello_warm=hello_warm,
        voj_collection=voj_collection,
        hello_collection=hello_collection,
    )

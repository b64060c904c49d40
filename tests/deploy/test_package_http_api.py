"""The built package behind API Gateway's HTTP API: payload format 2.0 events through Zappa's
handler, in a fresh process (deploy/local/lambda_harness.py). What worked through the REST
API's events works through these: the API's bodies (JSON, base64), headers and query strings;
the console's cookies, CSRF, redirects, static files and logout; the request id and the API's
own host from the event; the stage's name in the raw path or not (a custom domain)."""

from __future__ import annotations

import base64
import gzip
import json
import re
import secrets
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

from deploy.configure import stage_settings
from deploy.local.lambda_harness import api_gateway_event, invoke, prod_on_moto, runtime_dir, unpack
from tests.helpers import manage
from tests.servers import _clean_environment

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dist" / "voj-prod.zip"
HOST = "https://abc123def4.execute-api.ap-northeast-2.amazonaws.com"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def served(moto_server, tmp_path_factory) -> tuple[Path, Path, dict[str, str], str]:
    """The unpacked package, the runtime, an environment on moto with an operator database of
    its own (migrated, one operator), and that operator's password."""
    if not PACKAGE.exists():
        pytest.skip("run `make package` first")
    work = tmp_path_factory.mktemp("http-api")
    env = {
        **prod_on_moto(moto_server, ROOT / "deploy" / "stack.yaml"),
        "VOJ_OPSDB_KEY": f"system/test-{uuid.uuid4().hex}.sqlite3",
        "VOJ_OPSDB_PATH": str(work / "operator.sqlite3"),
    }
    password = secrets.token_urlsafe(16)
    manage_env = _clean_environment(
        **{
            **stage_settings("prod")["environment_variables"],
            **env,
            "VOJ_OPSDB_PATH": str(work / "manage.sqlite3"),
            "OPERATOR_PASSWORD_FOR_TEST": password,
        }
    )
    manage(manage_env, "migrate", "--noinput", "-v", "0")
    manage(
        manage_env,
        *("create_operator", "--username", "ops", "--password-env", "OPERATOR_PASSWORD_FOR_TEST"),
    )
    return unpack(PACKAGE, work / "task"), runtime_dir(work / "runtime"), env, password


def run(served, *events: dict) -> list[dict]:
    task, runtime, env, _ = served
    return invoke(task, runtime, list(events), env)[: len(events)]


def jar(answer: dict) -> dict[str, str]:
    """The cookies an answer sets: HTTP API's 2.0 responses carry them in ``cookies`` (as Django
    writes them, after a space, which a browser strips)."""
    pairs = [c.strip().split(";", 1)[0].split("=", 1) for c in answer["cookies"]]
    return {name: value for name, value in pairs}


def test_api_bodies_queries_and_headers(served):
    password = served[3]
    login = json.dumps({"username": "ops", "password": password})
    as_text, as_base64 = run(
        served,
        api_gateway_event("/api/v1/auth/login", method="POST", headers=JSON, body=login),
        # A body API Gateway took for binary arrives base64-encoded (isBase64Encoded).
        api_gateway_event("/api/v1/auth/login", method="POST", headers=JSON, body=login.encode()),
    )
    assert as_text["status"] == 200, as_text
    assert as_base64["status"] == 200, as_base64
    token = json.loads(as_text["body"])["access"]
    auth = {"Authorization": f"Bearer {token}", **JSON}
    title = "오디오북 · “quoted” title"
    created, listed, refused, searched = run(
        served,
        api_gateway_event(
            "/api/v1/books",
            method="POST",
            headers=auth,
            body=json.dumps({"title": title, "author": "작가", "language": "ko"}),
        ),
        api_gateway_event("/api/v1/books", headers=auth, query="limit=1"),
        api_gateway_event("/api/v1/books", headers=auth, query="limit=0"),
        api_gateway_event("/api/v1/books", headers=auth, query=urlencode({"q": "오디오북"})),
    )
    assert created["status"] == 201, created
    assert json.loads(created["body"])["title"] == title
    assert listed["status"] == 200 and len(json.loads(listed["body"])["results"]) == 1, listed
    # The raw query string reached the view: limit=0 is refused by name.
    assert refused["status"] == 400 and "limit" in refused["body"], refused
    assert searched["status"] == 200, searched
    assert title in [b["title"] for b in json.loads(searched["body"])["results"]]
    # Response headers come back as a plain map, JSON as text.
    assert created["headers"]["Content-Type"] == "application/json"
    assert created["base64"] is False


def test_request_id_and_own_host_come_from_the_event(served):
    event = api_gateway_event("/api/v1/health")
    other_api = api_gateway_event("/api/v1/health", headers={"Host": "zzz999zzz9" + HOST[18:]})
    own, refused = run(served, event, other_api)
    assert own["status"] == 200
    assert own["headers"]["X-Request-ID"] == event["requestContext"]["requestId"]
    # Another API's host under execute-api: requestContext.apiId says it is not this API.
    assert refused["status"] == 400, refused


def test_stage_in_the_raw_path_or_not(served):
    """On the execute-api host the stage leads the raw path and is the script's prefix; through
    a custom domain's mapping (or the $default stage) the path is the app's own."""
    # A path that merely starts like the stage's name is not the stage.
    lookalike = api_gateway_event("/productions", stage="$default")
    lookalike["requestContext"]["stage"] = "prod"
    direct, mapped, lookalike = run(
        served,
        api_gateway_event("/admin/", stage="prod"),
        api_gateway_event("/admin/", stage="$default"),
        lookalike,
    )
    assert direct["status"] == 302 and direct["headers"]["Location"].startswith(
        "/prod/admin/login/"
    )
    assert mapped["status"] == 302 and mapped["headers"]["Location"].startswith("/admin/login/")
    assert lookalike["status"] == 404


def test_console_sign_in_and_out(served):
    """Cookies both ways, CSRF, redirects under the stage's prefix, the session, logout."""
    password = served[3]
    (form,) = run(served, api_gateway_event("/admin/login/", query="next=/prod/admin/"))
    assert form["status"] == 200, form
    csrf = jar(form)["csrftoken"]
    assert any(c.strip().startswith("csrftoken=") and "Secure" in c for c in form["cookies"])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form["body"]).group(1)
    fields = {"username": "ops", "password": password, "next": "/prod/admin/"}
    post = {"Content-Type": "application/x-www-form-urlencoded", "Origin": HOST}

    def sign_in(**extra: str) -> dict:
        return api_gateway_event(
            "/admin/login/",
            method="POST",
            headers=post,
            body=urlencode({**fields, **extra}),
            cookies=[f"csrftoken={csrf}"],
        )

    forged, signed_in = run(served, sign_in(), sign_in(csrfmiddlewaretoken=token))
    assert forged["status"] == 403  # no CSRF token in the form
    assert signed_in["status"] == 302, signed_in
    assert signed_in["headers"]["Location"] == "/prod/admin/"
    session = jar(signed_in)["sessionid"]
    cookies = [f"csrftoken={jar(signed_in).get('csrftoken', csrf)}", f"sessionid={session}"]
    (index,) = run(served, api_gateway_event("/admin/", cookies=cookies))
    assert index["status"] == 200 and "ops" in index["body"], index["status"]
    # Signing in rotated the CSRF secret: the index page's logout form carries the new token.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', index["body"]).group(1)
    (logout,) = run(
        served,
        api_gateway_event(
            "/admin/logout/",
            method="POST",
            headers=post,
            body=urlencode({"csrfmiddlewaretoken": token}),
            cookies=cookies,
        ),
    )
    assert logout["status"] == 200, logout
    assert jar(logout)["sessionid"] in ("", '""')
    (after,) = run(served, api_gateway_event("/admin/", cookies=cookies))
    assert after["status"] == 302  # the session ended with the logout


def test_static_files_text_and_compressed(served):
    """WhiteNoise through the 2.0 response: text (CSS, and SVG, which Zappa sends as text) as
    it is; a compressed answer base64-encoded (isBase64Encoded), byte for byte the package's."""
    task = served[0]
    (form,) = run(served, api_gateway_event("/admin/login/"))
    css_path = re.search(r'href="(/[^"]*static/admin/css/base\.[0-9a-f]{12}\.css)"', form["body"])
    assert css_path, form["body"][:500]
    static = css_path.group(1).removeprefix("/prod")
    css_file = task / "staticfiles" / static.removeprefix("/static/")
    icon = next((task / "staticfiles" / "admin" / "img").glob("icon-yes.*.svg"))
    css, zipped, image = run(
        served,
        api_gateway_event(static),
        api_gateway_event(static, headers={"Accept-Encoding": "gzip"}),
        api_gateway_event(f"/static/admin/img/{icon.name}"),
    )
    assert css["status"] == 200 and css["base64"] is False
    assert css["body"].encode() == css_file.read_bytes()
    assert zipped["status"] == 200 and zipped["base64"] is True, zipped["headers"]
    assert zipped["headers"]["Content-Encoding"] == "gzip"
    assert gzip.decompress(base64.b64decode(zipped["body"])) == css_file.read_bytes()
    assert image["status"] == 200 and image["base64"] is False
    assert image["body"].encode() == icon.read_bytes()

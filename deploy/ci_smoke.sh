#!/usr/bin/env bash
# Serve voj in the background (`make run` or `make run-aws`), run the smoke command against it,
# then stop it. Used by CI; handy locally too: bash deploy/ci_smoke.sh run-aws
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: ci_smoke.sh run|run-aws}
port=${SMOKE_PORT:-8181}
export VOJ_DEMO_PASSWORD=${VOJ_DEMO_PASSWORD:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')}
mkdir -p var
log="var/smoke-$target.log"

setsid make "$target" PORT="$port" MOTO_PORT="${SMOKE_MOTO_PORT:-5181}" >"$log" 2>&1 &
server=$!
stop() { kill -TERM -- "-$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap stop EXIT

.venv/bin/python - "$port" <<'PY' || { cat "$log"; exit 1; }
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/health"
for _ in range(240):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.5)
sys.exit(f"{url} did not come up")
PY

VOJ_SMOKE_USERNAME=editor VOJ_SMOKE_PASSWORD="$VOJ_DEMO_PASSWORD" \
  .venv/bin/python manage.py smoke --base-url "http://127.0.0.1:$port" || { tail -50 "$log"; exit 1; }

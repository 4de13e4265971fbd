#!/usr/bin/env bash
# Builds the Ampora image's three targets and smoke-tests them against a throw-away PostgreSQL:
# the server becomes healthy and ready, the worker becomes healthy (its own port), the CLI makes a
# token that the server accepts, and the embedded mode writes to the /data volume. Everything it
# starts is removed at the end. Where no Docker daemon answers, it says so and exits 0 (skipped).
#
#   scripts/docker-smoke.sh            # or: npm run docker:smoke
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  echo "docker-smoke: no Docker daemon here (docker info failed); skipped"
  exit 0
fi

tag="ampora-smoke-$$"
net="$tag-net"
cleanup() {
  docker rm -f "$tag-db" "$tag-server" "$tag-worker" "$tag-embedded" >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
  docker volume rm "$tag-data" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step() { echo "docker-smoke: $*"; }
fail() { echo "docker-smoke: FAILED: $*" >&2; exit 1; }

# wait_health <container>: until Docker reports it healthy (the image's HEALTHCHECK)
wait_health() {
  for _ in $(seq 1 90); do
    state=$(docker inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null || echo missing)
    [ "$state" = healthy ] && return 0
    [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ] || { docker logs "$1" | tail -20; fail "$1 stopped"; }
    sleep 2
  done
  docker logs "$1" | tail -20
  fail "$1 did not become healthy"
}

step "building the server, worker and cli targets"
docker build -q -t "$tag:server" --target server . >/dev/null
docker build -q -t "$tag:worker" --target worker . >/dev/null
docker build -q -t "$tag:cli" --target cli . >/dev/null

step "PostgreSQL"
docker network create "$net" >/dev/null
docker run -d --name "$tag-db" --network "$net" -e POSTGRES_PASSWORD=smoke -e POSTGRES_DB=ampora postgres:16-alpine >/dev/null
for _ in $(seq 1 60); do docker exec "$tag-db" pg_isready -U postgres >/dev/null 2>&1 && break; sleep 1; done
db="postgres://postgres:smoke@$tag-db:5432/ampora"
common=(--network "$net" -e DATABASE_URL="$db" -e AMPORA_QUEUE=postgres -e AMPORA_BACKPLANE=postgres -e AMPORA_MASTER_KEY="$(head -c 32 /dev/urandom | base64)")

step "server and worker"
docker run -d --name "$tag-server" "${common[@]}" -p 127.0.0.1::4320 "$tag:server" >/dev/null
wait_health "$tag-server"
docker run -d --name "$tag-worker" "${common[@]}" "$tag:worker" >/dev/null
wait_health "$tag-worker"
port=$(docker port "$tag-server" 4320/tcp | head -1 | sed 's/.*://')

step "the CLI makes a token the server accepts"
token=$(docker run --rm "${common[@]}" "$tag:cli" tokens create --tenant default --role Admin --name smoke)
[[ "$token" =~ ^amp-pat\. ]] || fail "the CLI printed '$token', not a token"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/tokens")
[ "$code" = 200 ] || fail "GET /api/tokens answered $code"
ready=$(curl -s "http://127.0.0.1:$port/health/ready")
echo "$ready" | grep -q '"status":"ok"' || fail "/health/ready: $ready"
status=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/status")
echo "$status" | grep -q '"alive":true' || fail "/api/status does not see the worker: $status"

step "the server stops cleanly on docker stop"
docker stop -t 30 "$tag-server" >/dev/null
[ "$(docker inspect -f '{{.State.ExitCode}}' "$tag-server")" = 0 ] || { docker logs "$tag-server" | tail -20; fail "the server exited with $(docker inspect -f '{{.State.ExitCode}}' "$tag-server")"; }

step "embedded mode writes to the /data volume"
docker volume create "$tag-data" >/dev/null
docker run -d --name "$tag-embedded" -v "$tag-data:/data" "$tag:server" >/dev/null
wait_health "$tag-embedded"
docker exec "$tag-embedded" test -f /data/pgdata/PG_VERSION || fail "the embedded store is not on /data"

step "passed"

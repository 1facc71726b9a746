#!/usr/bin/env bash
# Builds the image from ./Dockerfile and checks it for real against a running Docker engine:
#   1. the image builds; its size, user and contents (no tsx, esbuild or TypeScript at run time);
#   2. HOST=0.0.0.0 without GATEWAY_API_KEYS is refused (exit code and message);
#   3. with keys, a published port and a data volume: the HEALTHCHECK (/ready) turns healthy,
#      /graphql answers 401 without a key, and an upsertContact in sandbox mode is CREATED everywhere;
#   4. /metrics with GATEWAY_METRICS_TOKEN counts the writes (and refuses a scrape without it);
#      `docker stop` drains and exits 0; started again on the same volume the contact keeps its id;
#      `docker stop` during a 1,000-item upsertContacts: the client gets the full answer, exit 0;
#   5. with --compose: compose.yaml (PostgreSQL + two replicas) comes up, both replicas turn healthy,
#      and an idempotent write sent to one replica is replayed by the other (shared PostgreSQL).
#
#   scripts/docker-smoke.sh [--compose] [--keep]
#
# Needs a running engine (`docker info`). Where the base images cannot be pulled (no registry
# access), it builds local stand-ins and says so:
#   - node:20.20-bookworm-slim: Debian bookworm (debootstrap --variant=minbase, as root) plus this
#     machine's Node 20.20 binary, headers and npm, with a `node` user (uid 1000) and npm running
#     install scripts as in the official image; it also trusts the CA bundle named by NODE_EXTRA_CA_CERTS, so `npm ci` works behind a
#     TLS-inspecting proxy;
#   - for --compose only: contact-gateway-smoke/postgres, PostgreSQL from Debian's packages with the
#     official image's POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB start-up, used through a
#     compose override instead of postgres:17.
# A stand-in stays in the engine under the official tag ("present locally (Imported from -)" on the
# next run): `docker rmi node:20.20-bookworm-slim` lets a machine with registry access pull the real one.
# Environment: IMAGE (default contact-gateway:smoke), HOST_PORT (default 14000; --compose uses
# HOST_PORT+1 and HOST_PORT+2), DEBIAN_MIRROR (debootstrap's mirror, default debootstrap's own).
# Results of the last run on record: docs/operations.md, "Container: verified".
set -euo pipefail

cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-contact-gateway:smoke}
HOST_PORT=${HOST_PORT:-14000}
NAME=contact-gateway-smoke
VOLUME=contact-gateway-smoke-data
KEY=smoke-test-key-0123456789abcdef
KEYS="[{\"name\":\"smoke\",\"key\":\"$KEY\",\"scopes\":[\"contacts:read\",\"contacts:write\"]}]"
METRICS_TOKEN=smoke-metrics-token-0123456789
PG_STANDIN=contact-gateway-smoke/postgres
COMPOSE_PROJECT=contact-gateway-smoke
WITH_COMPOSE=0
KEEP=0
for arg in "$@"; do
  case "$arg" in
    --compose) WITH_COMPOSE=1 ;;
    --keep) KEEP=1 ;;
    *) echo "usage: $0 [--compose] [--keep]" >&2; exit 64 ;;
  esac
done

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
WORK=$(mktemp -d)
COMPOSE=()
cleanup() {
  if [ "$KEEP" = 0 ]; then
    docker rm -f "$NAME" >/dev/null 2>&1 || true
    docker volume rm "$VOLUME" >/dev/null 2>&1 || true
    if [ ${#COMPOSE[@]} -gt 0 ]; then "${COMPOSE[@]}" down -v >/dev/null 2>&1 || true; fi
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

docker info >/dev/null 2>&1 || fail "no Docker engine answers (docker info); start dockerd first"

# ---- base images -------------------------------------------------------------------------------

make_node_standin() {
  local tag=$1 rootfs="$WORK/rootfs" node npm_dir
  [ "$(id -u)" = 0 ] || fail "building the $tag stand-in needs root (debootstrap)"
  command -v debootstrap >/dev/null || fail "building the $tag stand-in needs debootstrap (apt-get install debootstrap)"
  node=$(command -v node)
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  step "stand-in $tag: debootstrap bookworm (minbase) + $node $("$node" -v) + npm $(npm -v)"
  # shellcheck disable=SC2086 # DEBIAN_MIRROR is optional: unset means debootstrap's default
  debootstrap --variant=minbase bookworm "$rootfs" ${DEBIAN_MIRROR:-} >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
  install -m 0755 "$node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # As in the official image: Node's headers (node-gyp builds native modules against them without
  # downloading them) and npm running dependencies' install scripts (npm 11 asks for approval).
  local headers
  headers=$(dirname "$(dirname "$node")")/include/node
  mkdir -p "$rootfs/usr/local/etc"
  if [ -d "$headers" ]; then
    mkdir -p "$rootfs/usr/local/include"
    cp -a "$headers" "$rootfs/usr/local/include/node"
    printf 'nodedir=/usr/local\n' >>"$rootfs/usr/local/etc/npmrc"
  fi
  printf 'dangerously-allow-all-scripts=true\n' >>"$rootfs/usr/local/etc/npmrc"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  local changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    --change "ENV NODE_VERSION=$("$node" -v | tr -d v)" --change 'CMD ["node"]')
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    mkdir -p "$rootfs/etc/ssl/certs"
    cp "$NODE_EXTRA_CA_CERTS" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
  fi
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | docker import "${changes[@]}" - "$tag" >/dev/null
  rm -rf "$rootfs"
}

ensure_base() {
  local tag=$1
  if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "base $tag: present locally ($(docker image inspect -f '{{.Comment}}' "$tag" | head -c 60))"
  elif docker pull "$tag" >"$WORK/pull.log" 2>&1; then
    echo "base $tag: pulled"
  else
    echo "base $tag: cannot be pulled ($(tail -1 "$WORK/pull.log")); building a local stand-in"
    make_node_standin "$tag"
  fi
}

step "base images named by the Dockerfile"
while read -r base; do
  case "$base" in node:*) ensure_base "$base" ;; *) fail "unexpected base image $base" ;; esac
done < <(awk 'toupper($1) == "FROM" { print $2 }' Dockerfile | sort -u)

# ---- build ---------------------------------------------------------------------------------------

step "docker build -t $IMAGE ."
started=$(date +%s)
# --network host: builds also work where the engine runs without its default bridge.
docker build --network host -t "$IMAGE" . >"$WORK/build.log" 2>&1 \
  || { tail -40 "$WORK/build.log"; fail "docker build"; }
echo "built in $(($(date +%s) - started)) s"
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
base_size=$(docker image inspect -f '{{.Size}}' "$(awk 'toupper($1) == "FROM" { b = $2 } END { print b }' Dockerfile)")
echo "image size: $((size / 1000000)) MB ($(((size - base_size) / 1000000)) MB above the base image)"
user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE")
[ "$user" = node ] || fail "image user is '$user', expected node"
docker run --rm --entrypoint sh "$IMAGE" -c \
  'id -u; for p in tsx esbuild typescript vitest; do [ ! -e node_modules/$p ] || { echo "$p present"; exit 1; }; done; du -sh node_modules dist' \
  || fail "runtime image holds build tools"

# ---- run ------------------------------------------------------------------------------------------

step "HOST=0.0.0.0 without GATEWAY_API_KEYS is refused"
set +e
refusal=$(docker run --rm "$IMAGE" 2>&1)
code=$?
set -e
echo "exit code $code: $refusal"
if [ "$code" = 0 ] || ! grep -q GATEWAY_API_KEYS <<<"$refusal"; then fail "the gateway started without keys"; fi

wait_healthy() { # container, seconds
  local i status
  for ((i = 0; i < $2; i++)); do
    status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1")
    case "$status" in
      healthy) echo "$1: healthy (${i} s of waiting for Docker's health check)"; return 0 ;;
      unhealthy | exited | dead) break ;;
    esac
    sleep 1
  done
  docker logs "$1" 2>&1 | tail -20
  fail "$1 is $status after ${i} s"
}

gql() { # port, JSON body → prints the answer
  curl -sS -m 150 "http://127.0.0.1:$1/graphql" -H 'content-type: application/json' \
    -H "authorization: Bearer $KEY" --data-binary "$2"
}

# shellcheck disable=SC2016 # GraphQL variables, not shell ones
UPSERT='{"query":"mutation UpsertOne($input: ContactInput!) { upsertContact(input: $input) { contact { id email } outcomes { provider status } errors { field code message } } }","variables":{"input":{"email":"ada@example.com","firstName":"Ada","phone":"+14155550123"}}}'

step "docker run -p 127.0.0.1:$HOST_PORT:4000 -v $VOLUME:/data -e GATEWAY_API_KEYS=… $IMAGE"
docker rm -f "$NAME" >/dev/null 2>&1 || true
docker volume rm "$VOLUME" >/dev/null 2>&1 || true
started=$(date +%s)
# A drain window long enough for the 1,000-item batch below on a slow machine (about 60 s on two
# cores at load 18); the stop timeout leaves a margin above it.
docker run -d --name "$NAME" -p "127.0.0.1:$HOST_PORT:4000" -v "$VOLUME:/data" --stop-timeout 110 \
  -e GATEWAY_SHUTDOWN_TIMEOUT_MS=90000 -e GATEWAY_API_KEYS="$KEYS" -e GATEWAY_METRICS_TOKEN="$METRICS_TOKEN" \
  "$IMAGE" >/dev/null
until curl -sf -m 2 "http://127.0.0.1:$HOST_PORT/ready" >/dev/null; do
  [ "$(docker inspect -f '{{.State.Running}}' "$NAME")" = true ] || { docker logs "$NAME"; fail "container exited"; }
  [ $(($(date +%s) - started)) -lt 180 ] || fail "/ready not 200 after 180 s"
  sleep 0.5
done
echo "/ready 200 after $(($(date +%s) - started)) s (first start: creates the embedded database)"
wait_healthy "$NAME" 120
docker inspect -f '{{range .State.Health.Log}}{{.Start}} exit {{.ExitCode}}{{"\n"}}{{end}}' "$NAME"
echo "process user: $(docker exec "$NAME" id)"
docker exec "$NAME" ls /data

step "/graphql without a key"
anonymous=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "http://127.0.0.1:$HOST_PORT/graphql" \
  -H 'content-type: application/json' --data-binary '{"query":"{ providers { provider } }"}')
echo "HTTP $anonymous"
[ "$anonymous" = 401 ] || fail "expected 401 without a key"

step "upsertContact (sandbox mode)"
echo "request: $UPSERT"
first=$(gql "$HOST_PORT" "$UPSERT")
echo "answer:  $first"
[ "$(grep -o '"status":"CREATED"' <<<"$first" | wc -l)" -eq 4 ] || fail "expected four CREATED outcomes"
id=$(sed -E 's/.*"contact":\{"id":"([^"]+)".*/\1/' <<<"$first")

step "/metrics with GATEWAY_METRICS_TOKEN"
metrics=$(curl -sS -m 10 "http://127.0.0.1:$HOST_PORT/metrics" -H "authorization: Bearer $METRICS_TOKEN")
grep '^contact_gateway_write_outcomes_total' <<<"$metrics" || fail "no write outcomes in /metrics"
[ "$(grep -c '^contact_gateway_write_outcomes_total{.*status="CREATED"} 1$' <<<"$metrics")" -eq 4 ] \
  || fail "expected one CREATED write per provider in /metrics"
without=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "http://127.0.0.1:$HOST_PORT/metrics")
echo "/metrics without the token: HTTP $without"
[ "$without" != 200 ] || fail "/metrics answered without its token"

step "docker stop (SIGTERM: drain, exit 0), start again on the same volume"
docker stop "$NAME" >/dev/null
code=$(docker inspect -f '{{.State.ExitCode}}' "$NAME")
docker logs "$NAME" 2>&1 | grep -E 'SIGTERM|in flight|exiting' || true
[ "$code" = 0 ] || fail "exit code $code after docker stop"
started=$(date +%s)
docker start "$NAME" >/dev/null
until curl -sf -m 2 "http://127.0.0.1:$HOST_PORT/ready" >/dev/null; do
  [ $(($(date +%s) - started)) -lt 120 ] || fail "/ready not 200 after restart"
  sleep 0.5
done
echo "/ready 200 after $(($(date +%s) - started)) s (second start)"
second=$(gql "$HOST_PORT" "$UPSERT")
echo "answer:  $second"
grep -q "\"id\":\"$id\"" <<<"$second" || fail "the contact lost its id across the restart"
[ "$(grep -o '"status":"UPDATED"' <<<"$second" | wc -l)" -eq 4 ] || fail "expected four UPDATED outcomes"

step "docker stop with a 1,000-item upsertContacts in flight"
inputs=$(for i in $(seq 1 1000); do printf '{"email":"drain%d@example.com"},' "$i"; done)
# shellcheck disable=SC2016 # GraphQL variables, not shell ones
batch='{"query":"mutation B($inputs: [ContactInput!]!) { upsertContacts(inputs: $inputs) { items { contact { id } } summary { total succeeded failed } } }","variables":{"inputs":['"${inputs%,}"']}}'
gql "$HOST_PORT" "$batch" >"$WORK/batch.json" &
client=$!
sleep 1
stopped=$(date +%s)
docker stop "$NAME" >/dev/null
wait "$client" || fail "the client's request failed during the drain"
code=$(docker inspect -f '{{.State.ExitCode}}' "$NAME")
docker logs -t "$NAME" 2>&1 | grep -E 'SIGTERM|in flight|exiting' | tail -4 | cut -c1-250
echo "docker stop sent at $(date -u -d "@$stopped" +%T)"
echo "answer: $(grep -o '"summary":{[^}]*}' "$WORK/batch.json"), $(grep -o '"contact":{"id"' "$WORK/batch.json" | wc -l) contact ids; exit code $code after $(($(date +%s) - stopped)) s"
[ "$code" = 0 ] || fail "exit code $code after docker stop"
grep -q '"total":1000' "$WORK/batch.json" || fail "the batch was not answered in full"
if docker logs "$NAME" 2>&1 | grep 'request(s) in flight (up to' | tail -1 | grep -q 'waiting for 0 request'; then
  echo "(the batch had finished before SIGTERM: the drain was not exercised)"
fi
docker rm -f "$NAME" >/dev/null

[ "$WITH_COMPOSE" = 1 ] || { step "OK (single container; --compose also runs compose.yaml)"; exit 0; }

# ---- compose ----------------------------------------------------------------------------------------

make_postgres_standin() {
  step "stand-in $PG_STANDIN: PostgreSQL from Debian's packages"
  mkdir -p "$WORK/pg"
  cat >"$WORK/pg/entrypoint.sh" <<'EOF'
#!/bin/sh
# The official postgres image's start-up, reduced: POSTGRES_USER / _PASSWORD / _DB on first start.
set -eu
PGDATA=${PGDATA:-/var/lib/postgresql/data}
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pw && chown postgres /tmp/pw
  as_pg initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=/tmp/pw --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm /tmp/pw
  echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
  as_pg pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  [ "$POSTGRES_DB" = postgres ] || as_pg psql -qU "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
  as_pg pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*'
EOF
  local node_base
  node_base=$(awk 'toupper($1) == "FROM" { b = $2 } END { print b }' Dockerfile)
  cat >"$WORK/pg/Dockerfile" <<EOF
FROM $node_base
USER root
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql \\
 && rm -rf /var/lib/postgresql/*/main /etc/postgresql/*/main /var/lib/apt/lists/* \\
 && ln -s /usr/lib/postgresql/*/bin /usr/lib/postgresql/bin
ENV PATH=/usr/lib/postgresql/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY entrypoint.sh /usr/local/bin/
RUN chmod 755 /usr/local/bin/entrypoint.sh
VOLUME ["/var/lib/postgresql/data"]
EXPOSE 5432
STOPSIGNAL SIGINT
CMD ["entrypoint.sh"]
EOF
  docker build --network host -t "$PG_STANDIN" "$WORK/pg" >"$WORK/pg-build.log" 2>&1 \
    || { tail -30 "$WORK/pg-build.log"; fail "postgres stand-in build"; }
}

step "compose: PostgreSQL + two gateway replicas"
compose_files=(-f compose.yaml)
pg_image=$(awk '/^  postgres:/ { p = 1 } p && $1 == "image:" { print $2; exit }' compose.yaml)
if ! docker image inspect "$pg_image" >/dev/null 2>&1 && ! docker pull "$pg_image" >/dev/null 2>&1; then
  [ -n "$(docker images -q "$PG_STANDIN")" ] || make_postgres_standin
  echo "$pg_image cannot be pulled: $(docker run --rm "$PG_STANDIN" postgres --version) from Debian stands in"
  printf 'services:\n  postgres:\n    image: %s\n' "$PG_STANDIN" >"$WORK/standin.yaml"
  compose_files+=(-f "$WORK/standin.yaml")
fi
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then
  COMPOSE=(docker-compose)
  echo "Compose v2 not installed: $(docker-compose version --short) (v1) runs a copy without env_file's long form (a v2.24 feature)"
  sed '/^    env_file:/,/required: false/d' compose.yaml >"$WORK/compose.yaml"
  compose_files[1]=$WORK/compose.yaml
else
  fail "neither docker compose nor docker-compose is installed"
fi
COMPOSE+=(-p "$COMPOSE_PROJECT" --project-directory . "${compose_files[@]}")
export GATEWAY_API_KEYS=$KEYS GATEWAY_PORTS="$((HOST_PORT + 1))-$((HOST_PORT + 2))"
started=$(date +%s)
"${COMPOSE[@]}" up -d --build >"$WORK/compose-up.log" 2>&1 || { tail -30 "$WORK/compose-up.log"; fail "compose up"; }
mapfile -t replicas < <("${COMPOSE[@]}" ps -q gateway)
[ "${#replicas[@]}" = 2 ] || fail "expected 2 gateway replicas, got ${#replicas[@]}"
for c in "${replicas[@]}"; do wait_healthy "$c" 180; done
echo "compose up → both replicas healthy in $(($(date +%s) - started)) s"
ports=()
for c in "${replicas[@]}"; do ports+=("$(docker port "$c" 4000/tcp | head -1 | sed 's/.*://')"); done
echo "replicas on host ports ${ports[*]}"
docker logs "${replicas[0]}" 2>&1 | grep -m1 '"store"' || true

# shellcheck disable=SC2016 # GraphQL variables, not shell ones
IDEMPOTENT='{"query":"mutation M($input: ContactInput!) { upsertContact(input: $input, options: { idempotencyKey: \"smoke-compose-1\" }) { contact { id } outcomes { provider status } } }","variables":{"input":{"email":"grace@example.com","lastName":"Hopper"}}}'
one=$(gql "${ports[0]}" "$IDEMPOTENT")
two=$(gql "${ports[1]}" "$IDEMPOTENT")
echo "replica 1: $one"
echo "replica 2: $two"
[ "$(grep -o '"status":"CREATED"' <<<"$one" | wc -l)" -eq 4 ] || fail "replica 1: expected four CREATED outcomes"
[ "$one" = "$two" ] || fail "replica 2 did not replay replica 1's answer"
# The same key with another input: refused by replica 2, which sees replica 1's record.
conflict=$(gql "${ports[1]}" "${IDEMPOTENT/Hopper/Lovelace}")
echo "replica 2, same key, other input: $conflict"
grep -q IDEMPOTENCY_CONFLICT <<<"$conflict" || fail "replica 2 did not see replica 1's idempotency record"
step "OK (single container and compose)"

#!/usr/bin/env bash
# Bring up a local PostgreSQL for the tests and write its URL to .live/postgres.env.
# Idempotent: a server that already answers is only checked. Installs Debian's postgresql when it is
# missing (needs root, as in CI). Tests read TRIAGE_TEST_PG_URL (tests/live_services.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .live
say() { echo "postgres: $*" >&2; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "installing Debian's postgresql (about a minute)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    version=$(ls /etc/postgresql | sort -V | tail -1)
    say "starting cluster $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { say "not answering on 127.0.0.1:5432"; exit 1; }

url="postgresql://postgres@127.0.0.1:5432/postgres"
if ! psql "$url" -Atqc "SELECT 1" >/dev/null 2>&1; then
    # A stock install asks for a password on TCP: give the test role one.
    say "setting a password for the postgres role (local test server only)"
    su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'triage-tests'\"" >/dev/null
    url="postgresql://postgres:triage-tests@127.0.0.1:5432/postgres"
    psql "$url" -Atqc "SELECT 1" >/dev/null
fi
echo "export TRIAGE_TEST_PG_URL=$url" > .live/postgres.env
say "ready at ${url/:triage-tests@/:***@}"

#!/usr/bin/env bash
# A stand-in database migration: records which release migrated which tenant.
# Flotilla passes the plan's and the tenant's variables (here OUT_DIR and
# DB_NAME) and its own FLOTILLA_* variables in the environment.
set -euo pipefail

tenant="${FLOTILLA_TENANT:-_}"
dir="${OUT_DIR:-.flotilla/out}/${tenant}"
mkdir -p "$dir"
echo "migrating database ${DB_NAME:-unknown} for tenant ${tenant} to release ${FLOTILLA_RELEASE:-?} (attempt ${FLOTILLA_ATTEMPT:-1})"
sleep 0.2
echo "${FLOTILLA_RELEASE:-unknown}" >"$dir/schema-version"
echo "migration done"

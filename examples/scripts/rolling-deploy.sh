#!/usr/bin/env bash
# One target's share of a rolling deployment: take the target out of rotation,
# install the release, put it back. Runs on at most `window` targets at once.
set -euo pipefail

target="${FLOTILLA_TARGET:?FLOTILLA_TARGET is not set}"
dir="${OUT_DIR:-.flotilla/out}/${target}"
mkdir -p "$dir/releases/${FLOTILLA_RELEASE:-unknown}"

echo "${target}: leaving the load balancer"
touch "$dir/out-of-rotation"
sleep 0.2

echo "${target}: installing release ${FLOTILLA_RELEASE:-unknown}"
echo "${FLOTILLA_RELEASE:-unknown}" >"$dir/current"
sleep 0.2

echo "${target}: back in the load balancer"
rm -f "$dir/out-of-rotation"

#!/usr/bin/env bash
# Runs the browser suites in Chromium, Firefox ESR and WebKitGTK (or the BROWSERS subset of a
# local run). WebKitGTK needs an X display: this script starts its own Xvfb and always stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-browsers.sh

engines="${BROWSERS:-chromium,firefox,webkit}"
[ "${CI:-}" = "true" ] && engines="chromium,firefox,webkit"

xvfb_pid=""
cleanup() { [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

case ",$engines," in *,webkit,*)
  # A display number nobody holds: Xvfb writes its lock file as /tmp/.X<n>-lock.
  display=99
  while [ -e "/tmp/.X${display}-lock" ] || [ -e "/tmp/.X11-unix/X${display}" ]; do display=$((display + 1)); done
  Xvfb ":${display}" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  export DISPLAY=":${display}"
  for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X${display}" ] && break; sleep 0.1; done
  [ -e "/tmp/.X11-unix/X${display}" ] || { echo "Xvfb did not start on :${display}" >&2; exit 1; }
  ;;
esac

BROWSERS="$engines" npx web-test-runner --config test/browser/wtr.config.mjs "$@"

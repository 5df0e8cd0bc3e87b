#!/bin/sh
# Installs the browser the browser tests drive (test/browser/): Debian's `chromium` package.
#
# Runs as the root package's `postinstall`, so `npm ci` on a clean machine sets it up. Why
# Debian's package and not `playwright install`: the project's machines reach only the npm
# registry and Debian's archive, so a browser build downloaded from anywhere else cannot be
# had; playwright-core drives the system Chromium at /usr/bin/chromium instead.
#
# Idempotent: prints nothing and does nothing when /usr/bin/chromium is already there.
# Environment:
#   WARDEN_SKIP_BROWSER_SETUP=1  skip it (the browser tests will then fail and say why)
#   WARDEN_BROWSER_SETUP_DRY_RUN=1  print the apt-get commands instead of running them, even
#                                   when Chromium is present (to check the script itself)
set -u
exec 3>&2 # the terminal's stderr, for messages while apt's output goes to a log

CHROMIUM=/usr/bin/chromium
PACKAGE=chromium

say() { echo "setup-browser: $*" >&2; }

fail() {
  say "ERROR: $*"
  say "The browser tests need Debian's '$PACKAGE' package at $CHROMIUM. Install it with"
  say "  apt-get update && apt-get install -y --no-install-recommends $PACKAGE"
  say "or set WARDEN_SKIP_BROWSER_SETUP=1 to install without it (the browser tests will then fail)."
  exit 1
}

DRY_RUN=${WARDEN_BROWSER_SETUP_DRY_RUN:-0}
[ -x "$CHROMIUM" ] && [ "$DRY_RUN" != "1" ] && exit 0
if [ "${WARDEN_SKIP_BROWSER_SETUP:-}" = "1" ]; then
  say "WARDEN_SKIP_BROWSER_SETUP=1: not installing $PACKAGE; the browser tests need $CHROMIUM"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "$CHROMIUM is missing and this machine has no apt-get (not Debian?)."

# Root runs apt-get directly; anyone else needs passwordless sudo (-n never prompts, so an
# unattended `npm ci` cannot hang on a password question).
if [ "$(id -u)" = "0" ]; then
  AS_ROOT=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  AS_ROOT="sudo -n"
else
  fail "$CHROMIUM is missing and installing it needs root (or passwordless sudo); this is uid $(id -u)."
fi

run() {
  if [ "$DRY_RUN" = "1" ]; then
    echo "setup-browser: would run: $AS_ROOT${AS_ROOT:+ }env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 $*" >&3
    return 0
  fi
  # No prompts, no debconf questions; wait (bounded) for a dpkg lock another apt holds.
  # shellcheck disable=SC2086 # AS_ROOT is empty or "sudo -n", split on purpose
  $AS_ROOT env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@"
}

# A package is "known" when apt has a candidate version for it (a fresh image often has
# empty package lists, which makes `install` fail with "Unable to locate package").
known() {
  apt-cache policy "$PACKAGE" 2>/dev/null | grep -q 'Candidate: [0-9]'
}

install() {
  run install -y -q --no-install-recommends "$PACKAGE" >"$LOG" 2>&1
}

LOG=$(mktemp "${TMPDIR:-/tmp}/warden-setup-browser.XXXXXX") || fail "cannot create a temporary log file"
trap 'rm -f "$LOG"' EXIT

if [ "$DRY_RUN" = "1" ]; then
  say "dry run: the commands that would install $PACKAGE"
else
  say "$CHROMIUM is missing: installing Debian's $PACKAGE package (once; this takes a minute)"
fi
updated=0
if ! known; then
  run update -q >"$LOG" 2>&1 || { cat "$LOG" >&2; fail "apt-get update failed"; }
  updated=1
fi
if ! install; then
  # Stale package lists name files the archive no longer has: refresh them once and retry.
  if [ "$updated" = "0" ]; then
    run update -q >"$LOG" 2>&1 || { cat "$LOG" >&2; fail "apt-get update failed"; }
    install || { cat "$LOG" >&2; fail "apt-get install $PACKAGE failed"; }
  else
    cat "$LOG" >&2
    fail "apt-get install $PACKAGE failed"
  fi
fi

[ "$DRY_RUN" = "1" ] && exit 0
[ -x "$CHROMIUM" ] || fail "apt-get installed $PACKAGE but $CHROMIUM is still missing"
say "installed $("$CHROMIUM" --version 2>/dev/null || echo "$PACKAGE")"

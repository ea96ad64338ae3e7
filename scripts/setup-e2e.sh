#!/usr/bin/env bash
# Installs what the end-to-end tests (test/e2e/) need, and nothing else:
#   - Debian packages: chromium (the browser playwright-core drives), libkrb5-dev (code-server's
#     kerberos module compiles from source) and ripgrep (stands in for the ripgrep binary that
#     @vscode/ripgrep would otherwise download from GitHub, which this machine cannot reach);
#   - code-server, pinned by test/e2e/server/package.json + package-lock.json, installed with
#     `npm ci` into test/e2e/.server/ (gitignored), never into the project's node_modules.
#
# Idempotent: a stamp in test/e2e/.server/ records what was installed; when it matches the
# manifest, the lockfile and the Node major version, the script only checks and exits (< 1 s).
# Usage: scripts/setup-e2e.sh [--force]     (--force reinstalls code-server)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MANIFEST_DIR="$ROOT/test/e2e/server"
DEST="$ROOT/test/e2e/.server"
STAMP="$DEST/.installed"
FORCE=0
[[ "${1-}" == "--force" ]] && FORCE=1

say() { printf '[setup-e2e] %s\n' "$*"; }
die() { printf '[setup-e2e] error: %s\n' "$*" >&2; exit 1; }

started=$(date +%s)

# ---------------------------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------------------------
debian_packages=(chromium libkrb5-dev ripgrep)
missing=()
for pkg in "${debian_packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  install_cmd="apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ "$(id -u)" != 0 ]]; then
    say "missing Debian packages: ${missing[*]}"
    say "run as root:  apt-get update && $install_cmd"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  say "+ apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  say "+ $install_cmd"
  DEBIAN_FRONTEND=noninteractive $install_cmd
else
  say "Debian packages present: ${debian_packages[*]}"
fi
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium is missing although the chromium package is installed"
command -v rg >/dev/null || die "rg (ripgrep) is not on PATH"

# ---------------------------------------------------------------------------------------------
# 2. code-server into test/e2e/.server/
# ---------------------------------------------------------------------------------------------
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[[ "$node_major" == 20 ]] || die "code-server 4.100.3 needs Node 20 (engines.node \"20\"); this is Node $(node --version)"

want_stamp="$(cat "$MANIFEST_DIR/package.json" "$MANIFEST_DIR/package-lock.json" | sha256sum | cut -d' ' -f1) node$node_major"
CS="$DEST/node_modules/code-server"
installed_ok() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]] &&
    [[ -x "$DEST/node_modules/.bin/code-server" ]] &&
    [[ -d "$CS/lib/vscode/node_modules" ]] &&
    [[ -x "$CS/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ]]
}
if ((FORCE == 0)) && installed_ok; then
  say "code-server $(node -p "require('$CS/package.json').version") already installed in ${DEST#"$ROOT/"}"
  exit 0
fi

say "installing code-server from ${MANIFEST_DIR#"$ROOT/"} into ${DEST#"$ROOT/"}"
rm -rf "$DEST"
mkdir -p "$DEST"
cp "$MANIFEST_DIR/package.json" "$MANIFEST_DIR/package-lock.json" "$DEST/"

# A private TMPDIR under the project: the ripgrep cache is seeded there, and nothing the
# install leaves in its temp dir ends up in /tmp. Removed on every exit path.
export TMPDIR="$DEST/tmp"
mkdir -p "$TMPDIR"
cleanup() { rm -rf "$TMPDIR"; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# node-pty's install script calls npx, and this machine's npmrc says yes=false.
export npm_config_yes=true
# code-server's postinstall refuses to run as root without unsafe-perm.
export npm_config_unsafe_perm=true
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

cd "$DEST"
# 2a. Lay out the locked tree without running any install script, so that we can read which
#     @vscode/ripgrep the postinstall will want before it runs.
say "+ npm ci --ignore-scripts   (code-server and its locked dependencies)"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

[[ -f "$CS/package.json" ]] || die "npm ci did not install code-server"
cs_version="$(node -p "require('$CS/package.json').version")"
want_cs="$(node -p "require('$MANIFEST_DIR/package.json').dependencies['code-server']")"
[[ "$cs_version" == "$want_cs" ]] || die "installed code-server $cs_version, manifest pins $want_cs"

# 2b. Which @vscode/ripgrep does code-server's VS Code install, and which ripgrep release does
#     that package's postinstall download? Read both from the packages themselves.
rg_pkg_version="$(node -e '
  const fs = require("fs");
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) continue;
    const lock = JSON.parse(fs.readFileSync(f, "utf8"));
    const p = (lock.packages || {})["node_modules/@vscode/ripgrep"];
    if (p) { console.log(p.version); process.exit(0); }
  }
  process.exit(1);
' "$CS/lib/vscode/npm-shrinkwrap.json" "$CS/lib/vscode/package-lock.json")" ||
  die "cannot find @vscode/ripgrep in code-server's lib/vscode lockfile"
say "code-server's VS Code wants @vscode/ripgrep@$rg_pkg_version"

rg_pack_dir="$TMPDIR/vscode-ripgrep-pkg"
mkdir -p "$rg_pack_dir"
say "+ npm pack @vscode/ripgrep@$rg_pkg_version   (to read the ripgrep release it downloads)"
(cd "$rg_pack_dir" && npm pack --silent "@vscode/ripgrep@$rg_pkg_version" >/dev/null)
tar -xzf "$rg_pack_dir"/vscode-ripgrep-*.tgz -C "$rg_pack_dir"
rg_release="$(sed -n "s/^const VERSION = '\(v[^']*\)';.*/\1/p" "$rg_pack_dir/package/lib/postinstall.js")"
[[ -n "$rg_release" ]] || die "cannot read the ripgrep release from @vscode/ripgrep@$rg_pkg_version"
case "$(node -p process.arch)" in
  x64) rg_target=x86_64-unknown-linux-musl ;;
  arm64) rg_target=aarch64-unknown-linux-musl ;;
  *) die "no ripgrep target mapping for $(node -p process.arch)" ;;
esac
rg_cache="$TMPDIR/vscode-ripgrep-cache-$rg_pkg_version"
rg_asset="ripgrep-$rg_release-$rg_target.tar.gz"
mkdir -p "$rg_cache" "$TMPDIR/rg-bin"
cp "$(command -v rg)" "$TMPDIR/rg-bin/rg"
tar -czf "$rg_cache/$rg_asset" -C "$TMPDIR/rg-bin" rg
rg_version_text="$(rg --version)"
say "seeded the @vscode/ripgrep download cache with Debian's rg (${rg_version_text%%$'\n'*}): ${rg_cache#"$ROOT/"}/$rg_asset"

# 2c. Now run the install scripts (code-server's postinstall installs VS Code's own
#     dependencies with npm; @vscode/ripgrep's postinstall then finds the seeded tarball).
say "+ npm rebuild   (runs the install scripts: code-server's postinstall, native modules; about 30-60 s)"
npm rebuild --unsafe-perm --no-audit --no-fund --loglevel=error

[[ -x "$CS/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ]] ||
  die "VS Code's ripgrep binary is missing after the install"
[[ -x "$DEST/node_modules/.bin/code-server" ]] || die "code-server's bin link is missing"
# With XDG dirs of its own: code-server writes a config.yaml and logs on any start.
XDG_CONFIG_HOME="$TMPDIR/xdg-config" XDG_DATA_HOME="$TMPDIR/xdg-data" \
  "$DEST/node_modules/.bin/code-server" --version >/dev/null || die "code-server --version failed"

printf '%s\n' "$want_stamp" >"$STAMP"
say "code-server $cs_version installed ($(du -sh "$DEST" | cut -f1)) in $(($(date +%s) - started)) s"

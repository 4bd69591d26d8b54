#!/bin/bash
# check-deb.sh BUILD_DIR: installs the build tree with DESTDIR and a
# prefix and checks what lands where; builds the Debian package with
# CPack, checks its contents and declared dependencies, unpacks it into a
# scratch root and runs the packaged immich-autotag (--version, the man
# page, `check` with the packaged example configuration) against the
# packaged immich-sim on 127.0.0.1.
set -eu
build=$(cd "$1" && pwd)
# shellcheck source=packaging/sim-lib.sh
. "$(dirname "$0")/sim-lib.sh"
scratch_dir
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "SKIP: $tool missing (scripts/setup.sh installs dpkg-dev)"; exit 77; }
done
files="bin/immich-autotag bin/immich-sim
share/man/man1/immich-autotag.1.gz share/man/man1/immich-sim.1.gz
share/doc/immich-autotag/examples/config.yaml
share/doc/immich-autotag/migrating.md
share/bash-completion/completions/immich-autotag
lib/systemd/system/immich-autotag.service
lib/systemd/system/immich-autotag.timer
lib/systemd/system/immich-autotag-loop.service
lib/systemd/system/immich-autotag-watch.service"

# 1. cmake --install with DESTDIR and a prefix
DESTDIR=$work/destdir cmake --install "$build" --prefix /opt/ia >/dev/null
for f in $files; do
  [ -f "$work/destdir/opt/ia/$f" ] || fail "cmake --install: no /opt/ia/$f"
done
grep -qx 'ExecStart=/opt/ia/bin/immich-autotag run' \
  "$work/destdir/opt/ia/lib/systemd/system/immich-autotag.service" ||
  fail "the installed unit does not name /opt/ia/bin/immich-autotag"

# 2. the package: contents and dependencies
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" \
  -B "$work/pkg" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail cpack; }
deb=$(ls "$work"/pkg/*.deb)
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./||' >"$work/contents"
for f in $files; do
  grep -qx "usr/$f" "$work/contents" || fail "package lacks /usr/$f"
done
if grep -E '\.a$|/include/|test_' "$work/contents"; then
  fail "package holds build or test files"
fi
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libcurl4 libjansson4 libyajl2 libyaml-0-2 libpcre2-8-0 libunistring2 \
           libsqlite3-0 libmicrohttpd12 libc6 tzdata; do
  case ", $depends" in
    *", $lib "* | *", $lib,"* | *", $lib") ;;
    *) fail "Depends lacks $lib: $depends" ;;
  esac
done

# 3. unpacked into a scratch root, the packaged files work
root=$work/root
dpkg-deb -x "$deb" "$root"
"$root/usr/bin/immich-autotag" --version >"$work/version"
head -n 1 "$work/version" | grep -qE '^immich-autotag [0-9]+\.[0-9]+\.[0-9]+$' ||
  fail "--version: $(head -n 1 "$work/version")"
grep -q '^libcurl ' "$work/version" || fail "--version names no libcurl"
if command -v man >/dev/null 2>&1; then
  MANWIDTH=80 man -l "$root/usr/share/man/man1/immich-autotag.1.gz" \
    2>/dev/null | grep -q -- '--api-key-file' ||
    fail "man page lacks --api-key-file"
fi
start_sim "$root/usr/bin/immich-sim" "$work" || fail "immich-sim"
url=$sim_url
mkdir "$work/home"
env -i HOME="$work/home" PATH=/usr/bin:/bin IMMICH_URL="$url" \
  IMMICH_API_KEY_FILE="$work/key" \
  IMMICH_AUTOTAG_CONFIG="$root/usr/share/doc/immich-autotag/examples/config.yaml" \
  "$root/usr/bin/immich-autotag" check >"$work/check.out" 2>&1 ||
  { cat "$work/check.out"; fail "packaged immich-autotag check"; }
if grep -qF "$(cat "$work/key")" "$work/check.out"; then
  fail "the API key is in check's output"
fi
echo "package $(basename "$deb"): $(wc -l <"$work/contents") entries," \
     "Depends: $depends; check against immich-sim: ok"

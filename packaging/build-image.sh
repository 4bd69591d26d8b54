#!/bin/bash
# build-image.sh [--test] [BUILD_DIR]: builds an OCI image of immich-autotag
# from Debian packages only, without pulling a base image from a registry:
#
#   1. the project's Debian package (cpack in BUILD_DIR, default build/);
#   2. a minimal Debian root file system (mmdebstrap, variant essential)
#      with the package's library dependencies and CA certificates, the
#      package installed with dpkg, a non-root user (uid 10001), /config
#      and /data owned by it;
#   3. that tree imported as an image (podman import) with the tool as
#      entry point, `run` as default command, /config and /data as
#      volumes.
#
# --test then starts immich-sim (from the package, on the host's
# 127.0.0.1) and runs the image's `check` and `run --dry-run` against it.
#
#   podman run --rm -v ./config:/config:ro -v immich-autotag-data:/data \
#     -e IMMICH_URL=http://photos.lan:2283 \
#     -v ./api-key:/run/secrets/api-key:ro \
#     -e IMMICH_API_KEY_FILE=/run/secrets/api-key \
#     immich-autotag:VERSION                 # one run; add --loop 1h to repeat
#
# Needs (Debian packages): mmdebstrap, podman, dpkg-dev (and runc where
# podman's default runtime cannot run, e.g. inside a container); and a reachable
# Debian mirror (the one in /etc/apt/sources.list).  Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
test_it=false
if [ "${1:-}" = --test ]; then
  test_it=true
  shift
fi
build=$(cd "${1:-build}" && pwd)
for tool in mmdebstrap podman cpack dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "build-image: $tool missing (apt-get install mmdebstrap podman dpkg-dev)" >&2; exit 1; }
done
# shellcheck source=packaging/sim-lib.sh
. packaging/sim-lib.sh
scratch_dir

echo "== package"
cmake --build "$build" >/dev/null
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" \
  -B "$work/pkg" >/dev/null)
deb=$(ls "$work"/pkg/*.deb)
version=$(dpkg-deb -f "$deb" Version)
# the package's dependencies, by name
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ *//;s/[ (].*//' |
       grep -v '^$' | tr '\n' ',')
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-stable}")

echo "== root file system (Debian $suite: ${deps%,})"
cp "$deb" "$work/immich-autotag.deb"
mmdebstrap --variant=essential --include="${deps}ca-certificates" \
  --customize-hook="copy-in $work/immich-autotag.deb /tmp" \
  --customize-hook='chroot "$1" dpkg -i /tmp/immich-autotag.deb' \
  --customize-hook='rm "$1/tmp/immich-autotag.deb"' \
  --customize-hook='echo "immich-autotag:x:10001:10001::/data:/usr/sbin/nologin" >>"$1/etc/passwd"' \
  --customize-hook='echo "immich-autotag:x:10001:" >>"$1/etc/group"' \
  --customize-hook='mkdir -p "$1/config" "$1/data" && chown 10001:10001 "$1/data" && chmod 0700 "$1/data"' \
  --customize-hook='rm -rf "$1/usr/share/doc"/*/changelog* "$1/var/cache/apt"/* "$1/var/lib/apt/lists"/*' \
  "$suite" "$work/rootfs.tar"

echo "== image immich-autotag:$version"
podman import \
  --change 'ENTRYPOINT ["/usr/bin/immich-autotag"]' \
  --change 'CMD ["run"]' \
  --change 'USER 10001:10001' \
  --change 'WORKDIR /data' \
  --change 'VOLUME ["/config", "/data"]' \
  --change 'ENV IMMICH_AUTOTAG_CONFIG=/config/config.yaml' \
  --change 'ENV IMMICH_AUTOTAG_LOG_DIR=/data' \
  --change "LABEL org.opencontainers.image.title=immich-autotag org.opencontainers.image.version=$version" \
  "$work/rootfs.tar" "localhost/immich-autotag:$version" >/dev/null
podman tag "localhost/immich-autotag:$version" localhost/immich-autotag:latest
podman image ls localhost/immich-autotag

$test_it || exit 0
echo "== test against immich-sim"
root=$work/root
dpkg-deb -x "$deb" "$root"
start_sim "$root/usr/bin/immich-sim" "$work"
url=$sim_url
# Inside another container podman's defaults may not run (crun refuses
# hybrid cgroups, raising limits is not permitted): fall back to runc with
# the limits the process already has.
run_opts=()
if ! podman run --rm "localhost/immich-autotag:$version" --version \
     >/dev/null 2>&1; then
  run_opts=(--runtime runc --ulimit "nofile=$(ulimit -n):$(ulimit -n)"
            --ulimit nproc=1024:1024)
  echo "podman run needs: ${run_opts[*]}"
fi
podman run --rm "${run_opts[@]}" "localhost/immich-autotag:$version" --version
mkdir "$work/config"
cp "$root/usr/share/doc/immich-autotag/examples/config.yaml" "$work/config/"
chmod -R a+rX "$work/config"
chown 10001:10001 "$work/key"   # the container's user, as a secret would be
for args in check "run --dry-run"; do
  # shellcheck disable=SC2086
  podman run --rm "${run_opts[@]}" --network=host \
    -v "$work/config:/config:ro" \
    -v "$work/key:/run/secrets/api-key:ro" \
    -e IMMICH_API_KEY_FILE=/run/secrets/api-key -e IMMICH_URL="$url" \
    "localhost/immich-autotag:$version" $args >"$work/out" 2>&1 ||
    { cat "$work/out"; echo "build-image: '$args' in the image failed" >&2; exit 1; }
  tail -n 2 "$work/out"
done
podman run --rm "${run_opts[@]}" --entrypoint /usr/bin/id \
  "localhost/immich-autotag:$version"
echo "build-image: the image ran check and run --dry-run against immich-sim"

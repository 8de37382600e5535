#!/usr/bin/env bash
# The prebuilt addon for this platform, as the package ships it (npm run build:prebuild, and
# prepack): prebuilds/<platform>-<arch>/framesift.glibc.node (prebuildify layout, N-API,
# stripped) and framesift.runtime.json beside it (each shared library it links, with the
# Debian package that provides it, for the loader's message on a machine without them).
set -euo pipefail
cd "$(dirname "$0")/.."
platform_dir="prebuilds/$(node -p 'process.platform + "-" + process.arch')"
rm -rf "$platform_dir" build/prebuild-stage
mkdir -p build/prebuild-stage
PREBUILD_NODE_GYP="$PWD/scripts/cmake-js-as-node-gyp.sh" \
  npx prebuildify --napi --strip --tag-libc --name framesift --cwd build/prebuild-stage --out .
rm -rf build/prebuild-stage
node dist/scripts/prebuild-runtime.js "$platform_dir"

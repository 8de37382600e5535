#!/bin/sh
# prebuildify drives node-gyp (`rebuild --target=... --release`); framesift builds with cmake-js.
# The build is incremental (`cmake-js compile` in build/): when build/ is up to date with
# native/ this compiles nothing. prebuildify then strips and moves whatever it finds in
# <its cwd>/build/Release, so it runs in a staging folder (scripts/prebuild.sh) and gets a copy:
# the developer's build/Release/framesift.node stays where it is.
set -e
stage="$PWD"
cd "$(dirname "$0")/.."
npx cmake-js compile --out build
mkdir -p "$stage/build/Release"
cp build/Release/framesift.node "$stage/build/Release/framesift.node"

#!/bin/sh
# prebuildify drives node-gyp (`rebuild --target=...`); framesift builds with cmake-js, which
# writes the same place (build/Release/framesift.node). Used by `npm run prebuild`.
set -e
cd "$(dirname "$0")/.."
exec npx cmake-js rebuild --out build

#!/usr/bin/env bash
# One-step set-up on Debian 12 with Node 20 (as root, or with sudo): the Debian packages the
# native build needs, the npm dependencies, then the addon and the TypeScript build.
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Only what the build needs: libav* and OpenCV component -dev packages, pkg-config, cmake.
APT_PACKAGES=(
  pkg-config cmake
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-features2d-dev libopencv-calib3d-dev
  libopencv-video-dev libopencv-flann-dev libopencv-imgcodecs-dev
  colmap  # extract --colmap / --reconstruct tests: database_creator's schema and the mapper
  chromium # test/report.test.ts opens report.html in Debian's browser (playwright-core, no browser download)
  redis-server  # the queue and job API tests start a real Redis (test/helpers/redis.ts)
)
bash scripts/apt-install.sh setup "${APT_PACKAGES[@]}"

# onnxruntime-node ships its CPU build in the npm package; its install step would download
# the CUDA libraries from outside the registry. Skip it (also set in .npmrc); GPU servers:
# see README "GPU servers".
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: building the native addon and the TypeScript"
npm run --silent build:native >/dev/null
npm run --silent build:ts

# The sample the README runs on: generated (deterministic), not stored in git.
if [ ! -f samples/orbit.mp4 ]; then
  echo "setup: generating samples/orbit.mp4 (about a minute)"
  node dist/scripts/make-sample.js
fi
echo "setup: done"

# framesift as a user installs it: the packed tarball (npm pack: TypeScript build + prebuilt
# addon), installed with npm into a plain project on Debian 12 with Node 20, plus the Debian
# runtime libraries the prebuild links (their list ships beside it: framesift.runtime.json).
# The source tree and its -dev packages stay in the first stage.
#
#   docker build -t framesift .                      # CPU; onnxruntime-node for --model
#   docker build --build-arg ONNXRUNTIME_NODE_INSTALL=none -t framesift .   # no --model
#   docker run --rm -v "$PWD:/data" framesift extract /data/walk.mp4 -o /data/out --count 80
#
# GPU servers: build FROM an image with the NVIDIA driver/CUDA 12 runtime and cuDNN 9 (same
# Debian 12 base) and pass --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12 (README "GPU servers").

FROM node:20-bookworm AS pack
WORKDIR /src
COPY . .
# setup.sh: the -dev packages, npm ci, the addon; npm pack runs prepack (dist + prebuild).
RUN bash scripts/setup.sh && mkdir /pack && npm pack --pack-destination /pack

FROM node:20-bookworm-slim
ARG ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /opt/framesift
COPY --from=pack /pack/ /tmp/pack/
# 1. npm install of the tarball, as a user would (framesift's install step finds the runtime
#    libraries missing, says so, and does not fail the install);
# 2. the Debian packages of the libraries the prebuild links, read from the list beside it;
# 3. onnxruntime-node (optional peer dependency) the CPU way, the CUDA way, or not at all.
RUN echo '{"name": "framesift-image", "private": true}' > package.json \
 && npm install --no-audit --no-fund /tmp/pack/framesift-*.tgz \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      $(node -p "[...new Set(Object.values(require('./node_modules/framesift/prebuilds/linux-x64/framesift.runtime.json').libraries))].join(' ')") \
 && rm -rf /var/lib/apt/lists/* /tmp/pack \
 && if [ "$ONNXRUNTIME_NODE_INSTALL" != "none" ]; then \
      ONNXRUNTIME_NODE_INSTALL="$ONNXRUNTIME_NODE_INSTALL" npm install --no-audit --no-fund \
        "onnxruntime-node@$(node -p "require('./node_modules/framesift/package.json').peerDependencies['onnxruntime-node']")"; \
    fi \
 && node_modules/.bin/framesift doctor
WORKDIR /data
# Exit 0 while extract can run (addon, libraries, /data writable); the report names each fix.
HEALTHCHECK --interval=5m --timeout=60s --start-period=10s \
  CMD ["/opt/framesift/node_modules/.bin/framesift", "doctor", "--out", "/data"]
ENTRYPOINT ["/opt/framesift/node_modules/.bin/framesift"]

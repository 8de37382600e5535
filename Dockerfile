# framesift on Debian 12 with Node 20: the same set-up script as a developer machine.
# GPU servers: build FROM an image with the NVIDIA driver/CUDA 12 runtime instead and set
# ONNXRUNTIME_NODE_INSTALL=cuda12 (see README "GPU servers").
FROM node:20-bookworm
WORKDIR /opt/framesift
COPY package.json package-lock.json .npmrc ./
COPY scripts ./scripts
COPY CMakeLists.txt tsconfig.json ./
COPY native ./native
COPY bindings ./bindings
COPY src ./src
COPY bench ./bench
COPY bin ./bin
ARG ONNXRUNTIME_NODE_INSTALL=skip
ENV ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL}
RUN bash scripts/setup.sh && npm prune --omit=dev
ENTRYPOINT ["node", "/opt/framesift/bin/framesift.js"]

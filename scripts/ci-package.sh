#!/usr/bin/env bash
# CI: framesift as a user's dependency. Packs this checkout (prepack: TypeScript + prebuild),
# installs the tarball into a fresh project with a plain `npm install` and uses it there
# (test/package/pack-install.test.ts). After `npm test`: it rebuilds dist/ and prebuilds/.
set -euo pipefail
cd "$(dirname "$0")/.."
nice npx vitest run --config vitest.package.config.ts

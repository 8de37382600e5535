/**
 * Writes framesift.runtime.json beside the prebuild in the folder given: every shared library
 * the .node file names (DT_NEEDED, from readelf), mapped to the Debian package that provides
 * it here (dpkg -S). The loader uses it to name the package of each library a user's
 * machine lacks (bindings/requirements.ts). Run by scripts/prebuild.sh.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { RUNTIME_MANIFEST, systemName, type RuntimeManifest } from '../bindings/requirements.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: prebuild-runtime.js PREBUILD_DIR');
const node = readdirSync(dir).find((name) => name.endsWith('.node'));
if (!node) throw new Error(`no .node file in ${dir}`);
const file = join(dir, node);

const needed = [...execFileSync('readelf', ['-d', file], { encoding: 'utf8' }).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
const resolved = new Map<string, string>();
for (const m of execFileSync('ldd', [file], { encoding: 'utf8' }).matchAll(/^\s*(\S+)\s+=>\s+(\/\S+)/gm)) resolved.set(m[1]!, m[2]!);

/** The package owning a path; merged-/usr systems register files under /usr or not. */
function debianPackage(path: string): string | undefined {
  for (const candidate of [path, path.startsWith('/usr/') ? path.slice(4) : `/usr${path}`]) {
    const run = spawnSync('dpkg', ['-S', candidate], { encoding: 'utf8' });
    if (run.status === 0) return run.stdout.split(':')[0]!.trim();
  }
  return undefined;
}

const libraries: Record<string, string> = {};
for (const soname of needed) {
  const path = resolved.get(soname);
  const pkg = path ? debianPackage(path) : undefined;
  if (pkg) libraries[soname] = pkg;
}
const manifest: RuntimeManifest = { builtOn: systemName(), libraries };
writeFileSync(join(dir, RUNTIME_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
console.log(`prebuild-runtime: ${file}: ${Object.keys(libraries).length} of ${needed.length} libraries mapped to Debian packages`);

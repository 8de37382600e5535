// Preloaded (node --require) into a CLI run that a test kills mid-write: the first rename of
// one of framesift's temporary files into place never completes, and the file named by
// FRAMESIFT_TEST_HELD_MARKER is created, so the test kills the run while a temporary file is
// certainly in the output folder (no race against an encode that takes a few ms).
const fs = require('node:fs');
const { syncBuiltinESMExports } = require('node:module');

const marker = process.env.FRAMESIFT_TEST_HELD_MARKER;
if (!marker) throw new Error('hold-renames.cjs needs FRAMESIFT_TEST_HELD_MARKER');
const rename = fs.promises.rename;
// isTempName (src/output/atomic.ts) as a pattern on a path: this CommonJS preload cannot load that ES module.
fs.promises.rename = (from, to) => {
  if (!/\/\.[^/]*\.framesift-tmp$/.test(String(from))) return rename(from, to);
  fs.writeFileSync(marker, String(from));
  // Held until the kill; the timer keeps the process alive (an empty event loop would end it).
  setInterval(() => undefined, 1000);
  return new Promise(() => undefined);
};
syncBuiltinESMExports();

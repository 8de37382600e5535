/** Child process of test/colmap.test.ts: writes a tiny COLMAP database at argv[2], prints "CODE message". */
import { writeColmapDatabase } from '../../src/output/colmap-db.js';

const keypoints = new Float32Array(12);
try {
  await writeColmapDatabase(process.argv[2]!, {
    cameras: [{ model: 'SIMPLE_RADIAL', width: 8, height: 8, params: [9.6, 4, 4, 0], priorFocalLength: false }],
    images: [{ name: 'a.jpg', camera: 0, keypoints, descriptors: new Uint8Array(256) }],
    pairs: [],
  });
  console.log('OK');
} catch (err) {
  console.log(`${(err as { code?: string }).code} ${(err as Error).message}`);
}

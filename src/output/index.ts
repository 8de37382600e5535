/** Public surface of the output stage: folder, images, manifest, COLMAP lists, analysis CSV. */
export {
  prepareOutputDir,
  cleanupPartial,
  IMAGES_DIR,
  MANIFEST_FILE,
  IMAGE_LIST_FILE,
  PAIRS_FILE,
  ANALYSIS_FILE,
  OWN_FILES,
  OWN_DIRS,
  isOwnImageName,
  REPORT_FILE,
  REPORT_DIR,
  STATE_DIR,
  type PrepareOutputOptions,
  type OutputDir,
} from './out-dir.js';
export { TEMP_SUFFIX, isTempName, tempNamePid, tempNameFor, tempPathFor, writeFileAtomic, renameIntoPlace } from './atomic.js';
export {
  writeImage,
  imageName,
  imageNameDigits,
  resolveImageOptions,
  ImageWriter,
  IMAGE_FORMATS,
  DEFAULT_QUALITY,
  MIN_NAME_DIGITS,
  type ImageFormat,
  type ImageOptions,
  type ImageWriterOptions,
  type WrittenImage,
} from './images.js';
export {
  writeManifest,
  validateManifest,
  manifestSchema,
  MANIFEST_SCHEMA_PATH,
  MANIFEST_SCHEMA_VERSION,
  type Manifest,
  type ManifestFrame,
  type ManifestDecode,
  type ManifestLink,
  type ManifestLinkStatus,
  type ManifestProbe,
  type ManifestSequence,
  type ManifestTracks,
  type ManifestColmap,
  type ManifestReconstruction,
  type ManifestValidation,
} from './manifest.js';
export { writeImageList, writePairs, uniquePairs } from './colmap.js';
export { writeColmapDatabase, pairId, COLMAP_DIR, COLMAP_DATABASE_FILE, type ColmapDatabaseContent, type ColmapDatabaseSummary } from './colmap-db.js';
export {
  AnalysisCsv,
  formatNumber,
  quote,
  CSV_LEADING_COLUMNS,
  CSV_TRAILING_COLUMNS,
  type CsvColumns,
} from './analysis-csv.js';

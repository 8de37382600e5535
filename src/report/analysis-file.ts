/**
 * The container of DIR/.framesift/analysis.bin: a JSON header and binary sections, so a saved
 * analysis (columns of numbers, feature bytes, embeddings) reads back without parsing numbers.
 *
 * Layout: "FSAN" (4 bytes), u32 LE format version, u32 LE header length, header (UTF-8 JSON),
 * then the sections, each at an 8-byte aligned offset. In the header every typed array of the
 * value is replaced by {"$bin": [type, offset, length]} (offset from the start of the sections).
 * Typed arrays are written in the machine's byte order; the header records it and a reader on
 * the other order refuses the file.
 */
import { FramesiftError } from '../errors.js';

export const ANALYSIS_MAGIC = 'FSAN';

const TYPES = { Float64Array, Float32Array, Uint32Array, Int32Array, Uint8Array } as const;
type TypeName = keyof typeof TYPES;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function typeName(value: unknown): TypeName | undefined {
  for (const [name, ctor] of Object.entries(TYPES)) if (value instanceof ctor && value.constructor === ctor) return name as TypeName;
  // A Node Buffer is a Uint8Array subclass: stored as one.
  if (value instanceof Uint8Array) return 'Uint8Array';
  return undefined;
}

/** Encodes `value` (JSON-able, with typed arrays anywhere inside) as one Buffer. */
export function encodeAnalysisFile(value: unknown, version: number): Buffer {
  return Buffer.concat(encodeAnalysisParts(value, version));
}

/**
 * The bytes of encodeAnalysisFile() as the pieces to write one after another: the typed arrays
 * of `value` are not copied (a long video's features would be held twice at the end of a run).
 */
export function encodeAnalysisParts(value: unknown, version: number): Uint8Array[] {
  const sections: Uint8Array[] = [];
  let offset = 0;
  // The typed arrays are swapped for their placeholders before JSON.stringify sees them: a
  // replacer comes too late for a Buffer, whose toJSON() first turns it into an array of
  // numbers (the candidates' feature bytes: ~50 MB as 50 million numbers, 0.2 s and its GC).
  const lift = (v: unknown): unknown => {
    const type = typeName(v);
    if (type) {
      const view = v as ArrayBufferView & { length: number };
      const at = offset;
      sections.push(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      offset += padded(view.byteLength);
      return { $bin: [type, at, view.length] };
    }
    if (Array.isArray(v)) return v.map(lift);
    if (v === null || typeof v !== 'object') return v;
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return lift((v as { toJSON: () => unknown }).toJSON());
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(v)) out[key] = lift(item);
    return out;
  };
  const header = JSON.stringify({ littleEndian: LITTLE_ENDIAN, value: lift(value) });
  const headerBytes = Buffer.from(header, 'utf8');
  const start = padded(12 + headerBytes.length);
  const head = Buffer.alloc(start);
  head.write(ANALYSIS_MAGIC, 0, 'latin1');
  head.writeUInt32LE(version, 4);
  head.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(head, 12);
  const parts: Uint8Array[] = [head];
  const zeros = new Uint8Array(8);
  for (const section of sections) {
    parts.push(section);
    const pad = padded(section.byteLength) - section.byteLength;
    if (pad > 0) parts.push(zeros.subarray(0, pad));
  }
  return parts;
}

/** Sections start at 8-byte offsets (typed-array views over the file need it). */
const padded = (bytes: number) => Math.ceil(bytes / 8) * 8;

/**
 * Decodes what encodeAnalysisFile() wrote. Typed arrays come back as views over `bytes`
 * (aligned, no copy). Throws ERR_FRAMESIFT_SAVED_ANALYSIS naming `path` on anything malformed or
 * of another version.
 */
export function decodeAnalysisFile<T>(bytes: Buffer, version: number, path: string): T {
  const fail = (why: string): never => {
    throw new FramesiftError(`${path}: ${why}; run extract again to analyse the video anew`, 'ERR_FRAMESIFT_SAVED_ANALYSIS', { input: path });
  };
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== ANALYSIS_MAGIC) fail('not a saved framesift analysis');
  const found = bytes.readUInt32LE(4);
  if (found !== version) fail(`saved by another framesift (analysis format ${found}, this one reads ${version})`);
  const headerLength = bytes.readUInt32LE(8);
  if (12 + headerLength > bytes.length) fail('the file is cut short');
  const start = Math.ceil((12 + headerLength) / 8) * 8;
  // Views need the sections 8-byte aligned in memory: copy once if the Buffer is not.
  const base = (bytes.byteOffset + start) % 8 === 0 ? bytes : Buffer.from(bytes);
  let parsed: { littleEndian: boolean; value: T };
  try {
    parsed = JSON.parse(base.toString('utf8', 12, 12 + headerLength), (_key, v) => {
      if (v === null || typeof v !== 'object' || !Array.isArray(v.$bin)) return v;
      const [type, offset, length] = v.$bin as [TypeName, number, number];
      const ctor = TYPES[type];
      if (!ctor || !Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) throw new Error(`bad section ${JSON.stringify(v.$bin)}`);
      const byteOffset = base.byteOffset + start + offset;
      if (start + offset + length * ctor.BYTES_PER_ELEMENT > base.length) throw new Error('a section runs past the end of the file');
      return new ctor(base.buffer as ArrayBuffer, byteOffset, length);
    });
  } catch (err) {
    return fail(`the file is corrupt (${(err as Error).message})`);
  }
  if (parsed.littleEndian !== LITTLE_ENDIAN) fail('saved on a machine of the other byte order');
  return parsed.value;
}

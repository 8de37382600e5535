/**
 * Reads ModelProto.metadata_props (field 14) from ONNX bytes with a minimal protobuf
 * wire-format walk over the top-level fields only. onnxruntime-node does not expose custom
 * metadata, and a full protobuf parser would be a runtime dependency for two strings.
 * Returns null when the bytes are not a plausible ModelProto.
 */
export function readOnnxMetadata(bytes: Uint8Array): Map<string, string> | null {
  const props = new Map<string, string>();
  let pos = 0;
  let sawGraph = false;
  const readVarint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length) throw new Error('truncated varint');
      const b = bytes[pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  };
  try {
    while (pos < bytes.length) {
      const key = readVarint();
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (field === 0) return null;
      if (wire === 0) readVarint();
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const len = readVarint();
        const end = pos + len;
        if (end > bytes.length) return null;
        if (field === 7) sawGraph = true;
        if (field === 14) {
          const entry = readStringPair(bytes.subarray(pos, end));
          if (entry) props.set(entry[0], entry[1]);
        }
        pos = end;
      } else return null;
    }
  } catch {
    return null;
  }
  return sawGraph ? props : null;
}

/** StringStringEntryProto: key = 1, value = 2. */
function readStringPair(bytes: Uint8Array): [string, string] | null {
  const decoder = new TextDecoder();
  let key = '';
  let value = '';
  let pos = 0;
  while (pos < bytes.length) {
    const tag = bytes[pos++];
    if ((tag & 7) !== 2) return null;
    let len = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++];
      len |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    const text = decoder.decode(bytes.subarray(pos, pos + len));
    if (tag >> 3 === 1) key = text;
    else if (tag >> 3 === 2) value = text;
    pos += len;
  }
  return [key, value];
}

/** Types of the native decoder (native/decoder_binding.cc). Field names match the C++ structs. */

/** Flat, pre-validated options: src/core/decode.ts checks every value before it gets here. */
export interface NativeDecoderOptions {
  /** A file path or any URL libavformat accepts; for image sequences, a label for messages. */
  input: string;
  /** Image sequence: the files in order (non-empty switches to image-sequence mode). */
  files: string[];
  /** Frame rate given to an image sequence (pts = index / sequenceFps). */
  sequenceFps: number;
  /** Longest side of the analysis image in pixels; 0 keeps the source size. */
  analysisSize: number;
  gray: boolean;
  rgb: boolean;
  sampling: 'all' | 'fps' | 'keyframes';
  /** Target rate for sampling 'fps'. */
  fps: number;
  /** Time range in seconds from the stream start; end < 0 means to the end. */
  start: number;
  end: number;
  /** Decoder threads; 0 = all cores. */
  threads: number;
  /** Streams with more pixels per frame than this are refused before any frame allocation. */
  maxPixels: number;
  /** Frame slots in the bounded pool. */
  poolSize: number;
  /** Apply the display rotation (display matrix / EXIF orientation). */
  applyRotation: boolean;
  /** RGB plane at the source size while gray stays at the analysis size. */
  rgbFullResolution?: boolean;
  /** With rgb: keep the decoded planes in the slot instead of converting the RGB (FrameSpill converts the kept ones). */
  rgbDeferred?: boolean;
  maxFramesDecoded?: number;
  readTimeoutSec?: number;
  /** Skip deblocking and allow non-compliant speed-ups (analysis passes only). */
  fastDecode?: boolean;
  /** Do not decode non-reference frames (sampled passes). */
  skipNonReference?: boolean;
  /** >= 0: decode only this many seconds after each keyframe; < 0: off. */
  gopHeadSec?: number;
  /** >= 0: a GOP's head grows so that at most this much of it (by the container index) is skipped. */
  gopMaxSkipSec?: number;
  /** Ascending times (s): deliver only these frames, seeking across long gaps. Empty = all. */
  wantedPts?: number[];
  /** One per wantedPts: the keyframe at or before it (seek target), from an earlier pass. */
  wantedKeyframePts?: number[];
}

export interface NativeProbe {
  input: string;
  container: string;
  codec: string;
  width: number;
  height: number;
  /** Clockwise rotation in degrees (0, 90, 180, 270) needed to display the frames upright. */
  rotation: number;
  /** Width and height after rotation. */
  displayWidth: number;
  displayHeight: number;
  pixelFormat: string;
  bitDepth: number;
  avgFrameRate: number;
  realFrameRate: number;
  durationSec: number;
  startTimeSec: number;
  /** Frame count from the container when it declares one, else -1. */
  frameCount: number;
  variableFrameRate: boolean;
  isImageSequence: boolean;
  /** Analysis size the decoder will produce (after rotation). */
  outputWidth: number;
  outputHeight: number;
  /** 35 mm-equivalent focal length in mm when the input states it (EXIF FocalLengthIn35mmFilm, QuickTime's com.apple.quicktime.camera.focal_length.35mm_equivalent), else 0. */
  focalLength35mm: number;
}

export interface NativeFrame {
  /** Presentation index among all frames of the stream (keyframe mode: packets before it). */
  index: number;
  /** Presentation time in seconds from the start of the container. */
  ptsSec: number;
  keyframe: boolean;
  width: number;
  height: number;
  gray?: Buffer;
  rgb?: Buffer;
  /** Size of the RGB plane (differs from width/height with rgbFullResolution). */
  rgbWidth?: number;
  rgbHeight?: number;
  /** rgbDeferred: the slot holds the decoded planes, no rgb Buffer. */
  rgbDeferred?: boolean;
  /** Opaque ticket: passing the frame to native calls pins it; release(handle) returns it. */
  handle: unknown;
}

export interface NativeDecodeStats {
  packetsRead: number;
  framesDecoded: number;
  framesDelivered: number;
  /** Packets whose frame could not be decoded (damaged data, lost references). */
  framesLost: number;
  decodeErrors: number;
  /** Frames the decoder flagged as concealed/corrupt but still produced. */
  corruptFrames: number;
  truncated: boolean;
  /** Decoding stopped at maxFramesDecoded. */
  capped: boolean;
  lastError: string;
}

export interface NativeReadResult {
  frames: NativeFrame[];
  /** True once the stream (or the time range) is exhausted. */
  done: boolean;
  /** True when no pool slot was free: release frames, then read again. */
  starved: boolean;
  stats: NativeDecodeStats;
}

export interface NativeDecoder {
  open(options: NativeDecoderOptions): Promise<NativeProbe>;
  read(maxFrames: number): Promise<NativeReadResult>;
  seek(seconds: number): Promise<void>;
  close(): Promise<void>;
  release(handle: unknown): boolean;
  freeSlots(): number;
  /** Keyframe times demuxed so far (between reads only). */
  keyframeTimes(): Float64Array;
  /** The first `max` keyframe times from the container's index when it lists every frame (mp4/mov), else empty. */
  indexedKeyframeTimes(max: number): Float64Array;
  stats(): NativeDecodeStats;
}

/** A scratch file of decoded planes (native/frame_spill.h), unlinked at creation. */
export interface NativeFrameSpill {
  /** Appends a frame decoded with rgbDeferred (pinned while written); resolves to its record id. */
  write(frame: { handle: unknown }): Promise<number>;
  /** The record's RGB24 at full resolution into `buffer` (at least rgbBytes(id).bytes + 64 bytes). */
  readRgb(id: number, buffer: Uint8Array): Promise<{ width: number; height: number }>;
  /** The record's gray8 analysis image, width x height after rotation (as decoded), into `buffer` (at least width * height + 64 bytes). */
  readGray(id: number, width: number, height: number, buffer: Uint8Array): Promise<void>;
  rgbBytes(id: number): { bytes: number; width: number; height: number };
  fileBytes(): number;
  /** Whether the file is read and written with direct I/O (O_DIRECT), bypassing the page cache. */
  direct(): boolean;
  close(): void;
}

export interface DecoderExports {
  Decoder: new () => NativeDecoder;
  /** `direct` (default true): direct I/O where the file system allows it. */
  FrameSpill: new (path: string, direct?: boolean) => NativeFrameSpill;
}

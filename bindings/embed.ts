/** Types of the native embedding preprocessing (native/embed_binding.cc). */
export interface PreprocessTargetArg {
  width: number;
  height: number;
  /** 0 = stretch, 1 = centre crop. */
  aspect: 0 | 1;
  /** Write binary16 into a Uint16Array instead of float32. */
  half: boolean;
}

/** A frame as the decoder gives it, or a plain image. */
export interface PreprocessFrameArg {
  rgb?: Uint8Array;
  gray?: Uint8Array;
  data?: Uint8Array;
  width: number;
  height: number;
  stride?: number;
  channels?: 1 | 3;
}

export interface EmbedExports {
  /**
   * Resizes and ImageNet-normalises `frames` into `out` as NCHW, frame i at element
   * offset + i * 3 * width * height; runs on the threadpool.
   */
  preprocessFrames(frames: readonly PreprocessFrameArg[], target: PreprocessTargetArg, out: Float32Array | Uint16Array, offset: number): Promise<void>;
}

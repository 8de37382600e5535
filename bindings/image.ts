/**
 * What native calls read without a copy (native/image_arg.h): a decoded frame
 * ({gray|rgb, width, height, handle}) or plain pixels ({data, width, height, stride?}).
 */
export interface NativeGrayImage {
  data?: Uint8Array;
  gray?: Uint8Array;
  width: number;
  height: number;
  stride?: number;
  handle?: unknown;
}

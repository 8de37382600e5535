/** The loaded addon, with FramesiftError registered so native errors are instances of it. */
import { loadNative, type NativeAddon } from '../../bindings/index.js';
import { FramesiftError } from '../errors.js';

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (!addon) {
    try {
      addon = loadNative();
    } catch (err) {
      throw new FramesiftError((err as Error).message, 'ERR_FRAMESIFT_NATIVE_LOAD');
    }
    addon.setErrorClass(FramesiftError as unknown as new (message: string, code: string) => Error);
  }
  return addon;
}

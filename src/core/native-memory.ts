/**
 * The native heap between stages: a stage's native work (decoder buffers, SIFT pyramids) frees
 * its blocks into glibc's two shared arenas, which keep them; giving them back before the next
 * stage keeps a long run's peak to what one stage needs.
 */
import { native } from './native.js';

/** Returns the native heap's free memory to the OS; true when some was (false off glibc). */
export function trimNativeMemory(): boolean {
  return native().trimNativeMemory();
}

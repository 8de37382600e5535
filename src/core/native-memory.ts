/**
 * The native heap between stages: a stage's native work (decoder buffers, SIFT pyramids) frees
 * its blocks into glibc's two shared arenas, which keep them; giving them back before the next
 * stage keeps a long run's peak to what one stage needs.
 */
import { native } from './native.js';

/**
 * Returns the native heap's free memory to the OS; true when some was (false off glibc). With
 * `minFreeBytes`, only once the arenas hold that much free: within a stage that repeats the same
 * work, pages given back are faulted in again by the next call. Without it (between stages),
 * the large image blocks kept for reuse (matCacheBytes()) are freed first.
 */
export function trimNativeMemory(minFreeBytes?: number): boolean {
  return native().trimNativeMemory(minFreeBytes);
}

/**
 * Bytes of freed image blocks (1 MB and over, up to 384 MB) the addon keeps for the next image
 * of the same size: SIFT makes its scale space afresh for every image, and blocks given back to
 * the kernel were faulted in again for the next one.
 */
export function matCacheBytes(): number {
  return native().matCacheBytes();
}

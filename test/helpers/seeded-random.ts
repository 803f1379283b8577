/**
 * A reproducible random number for a key: FNV-1a of `seed:key`, mixed by one round of
 * mulberry32. The same seed and key always give the same draw, whatever order concurrent
 * events happen in, so a run (which messages get a 421, on which attempt) can be replayed and
 * its outcome predicted exactly.
 */
export function draw(seed: number, key: string): number {
  let hash = 0x811c9dc5;
  const text = `${seed}:${key}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  let t = (hash + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

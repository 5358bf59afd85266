/**
 * A 32-bit FNV-1a hash of a video id. The catalog keeps one per ordinal in a dense
 * column, so the candidate filter can test an offered video against the user's excluded
 * ids without reading the video object (a cache miss per candidate); equal hashes are
 * confirmed by comparing the ids.
 */
export function videoIdHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h | 0;
}

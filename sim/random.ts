/**
 * Seeded pseudo-random numbers, so that a fault scenario replays identically
 * from its seed. mulberry32: one 32-bit word of state, fast, well spread; not
 * for anything secret.
 */
export type Random = () => number;

export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Independent streams per concern: drawing one more API fault must not shift
 * which events get duplicated, or every added call would reshuffle a scenario.
 */
export function randomStreams(seed: number) {
  const derive = (salt: number) => mulberry32(Math.imul(seed ^ salt, 0x9e3779b1));
  return { api: derive(0x41504931), events: derive(0x45564e54), ids: derive(0x49445331) };
}

export const chance = (random: Random, p: number | undefined): boolean => (p ?? 0) > 0 && random() < p!;

export function hex(random: Random, length: number): string {
  let out = '';
  while (out.length < length) out += Math.floor(random() * 16).toString(16);
  return out;
}

/** A version-4-shaped UUID from the seeded stream, so ids repeat with the seed. */
export function uuid(random: Random): string {
  const h = hex(random, 32);
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

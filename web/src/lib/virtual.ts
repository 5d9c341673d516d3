// Windowing for long lists: prefix sums of row heights (measured, or a guess until then)
// and a binary search for the rows in view. 10,000 rows cost one Float64Array.

export const ESTIMATE_PX = 64;

export function prefixSums(keys: string[], heights: Map<string, number>): Float64Array {
  const out = new Float64Array(keys.length + 1);
  for (let i = 0; i < keys.length; i++) out[i + 1] = out[i] + (heights.get(keys[i]) ?? ESTIMATE_PX);
  return out;
}

/** The index of the row that contains pixel `y`. */
export function rowAt(offsets: Float64Array, y: number): number {
  let lo = 0;
  let hi = offsets.length - 2;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function windowOf(offsets: Float64Array, top: number, height: number, overscan: number): [number, number] {
  const n = offsets.length - 1;
  if (n <= 0) return [0, 0];
  const start = rowAt(offsets, Math.max(0, top - overscan));
  const end = Math.min(n, rowAt(offsets, top + height + overscan) + 1);
  return [start, end];
}

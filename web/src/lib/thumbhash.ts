// ThumbHash decoding (the published algorithm by Evan Wallace, written out here): a 21–25
// byte hash of a photo becomes a ~32 px picture drawn while the real one loads.
// Layout: 24-bit header (L DC, P DC, Q DC, L scale, alpha flag), 16-bit header (L count,
// P scale, Q scale, landscape flag), an optional alpha byte, then 4-bit AC coefficients.

export interface Pixels {
  w: number;
  h: number;
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

function bytesOf(b64: string): Uint8Array {
  const bin = atob(b64.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export function aspectRatio(hash: Uint8Array): number {
  const hasAlpha = hash[2] & 0x80;
  const landscape = hash[4] & 0x80;
  const lx = landscape ? (hasAlpha ? 5 : 7) : hash[3] & 7;
  const ly = landscape ? hash[3] & 7 : hasAlpha ? 5 : 7;
  return lx / ly;
}

export function decode(b64: string): Pixels {
  const hash = bytesOf(b64);
  const h24 = hash[0] | (hash[1] << 8) | (hash[2] << 16);
  const h16 = hash[3] | (hash[4] << 8);
  const lDc = (h24 & 63) / 63;
  const pDc = ((h24 >> 6) & 63) / 31.5 - 1;
  const qDc = ((h24 >> 12) & 63) / 31.5 - 1;
  const lScale = ((h24 >> 18) & 31) / 31;
  const hasAlpha = h24 >> 23 === 1;
  const pScale = ((h16 >> 3) & 63) / 63;
  const qScale = ((h16 >> 9) & 63) / 63;
  const landscape = h16 >> 15 === 1;
  const lx = Math.max(3, landscape ? (hasAlpha ? 5 : 7) : h16 & 7);
  const ly = Math.max(3, landscape ? h16 & 7 : hasAlpha ? 5 : 7);
  const aDc = hasAlpha ? (hash[5] & 15) / 15 : 1;
  const aScale = (hash[5] >> 4) / 15;

  const start = hasAlpha ? 6 : 5;
  let index = 0;
  // Coefficients in the triangle cx*ny < nx*(ny-cy), DC left out; nibbles low first.
  const channel = (nx: number, ny: number, scale: number): number[] => {
    const ac: number[] = [];
    for (let cy = 0; cy < ny; cy++)
      for (let cx = cy ? 0 : 1; cx * ny < nx * (ny - cy); cx++, index++)
        ac.push((((hash[start + (index >> 1)] >> ((index & 1) << 2)) & 15) / 7.5 - 1) * scale);
    return ac;
  };
  const lAc = channel(lx, ly, lScale);
  // Saturation is boosted 1.25× to make up for quantisation (as the reference does).
  const pAc = channel(3, 3, pScale * 1.25);
  const qAc = channel(3, 3, qScale * 1.25);
  const aAc = hasAlpha ? channel(5, 5, aScale) : [];

  const ratio = aspectRatio(hash);
  const w = Math.round(ratio > 1 ? 32 : 32 * ratio);
  const h = Math.round(ratio > 1 ? 32 / ratio : 32);
  const rgba = new Uint8ClampedArray(w * h * 4);
  const fx: number[] = [];
  const fy: number[] = [];
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i += 4) {
      let l = lDc;
      let p = pDc;
      let q = qDc;
      let a = aDc;
      for (let cx = 0, n = Math.max(lx, hasAlpha ? 5 : 3); cx < n; cx++) fx[cx] = Math.cos((Math.PI / w) * (x + 0.5) * cx);
      for (let cy = 0, n = Math.max(ly, hasAlpha ? 5 : 3); cy < n; cy++) fy[cy] = Math.cos((Math.PI / h) * (y + 0.5) * cy);
      for (let cy = 0, j = 0; cy < ly; cy++)
        for (let cx = cy ? 0 : 1, f2 = fy[cy] * 2; cx * ly < lx * (ly - cy); cx++, j++) l += lAc[j] * fx[cx] * f2;
      for (let cy = 0, j = 0; cy < 3; cy++)
        for (let cx = cy ? 0 : 1, f2 = fy[cy] * 2; cx < 3 - cy; cx++, j++) {
          const f = fx[cx] * f2;
          p += pAc[j] * f;
          q += qAc[j] * f;
        }
      if (hasAlpha)
        for (let cy = 0, j = 0; cy < 5; cy++)
          for (let cx = cy ? 0 : 1, f2 = fy[cy] * 2; cx < 5 - cy; cx++, j++) a += aAc[j] * fx[cx] * f2;
      // LPQ → RGB
      const b = l - (2 / 3) * p;
      const r = (3 * l - b + q) / 2;
      const g = r - q;
      rgba[i] = 255 * Math.min(1, Math.max(0, r));
      rgba[i + 1] = 255 * Math.min(1, Math.max(0, g));
      rgba[i + 2] = 255 * Math.min(1, Math.max(0, b));
      rgba[i + 3] = 255 * Math.min(1, Math.max(0, a));
    }
  }
  return { w, h, rgba };
}

/** Draws the hash into a canvas (a canvas needs no CSP source, unlike a data: URL). */
export function paint(canvas: HTMLCanvasElement, b64: string): void {
  try {
    const { w, h, rgba } = decode(b64);
    canvas.width = w;
    canvas.height = h;
    canvas.getContext("2d")?.putImageData(new ImageData(rgba, w, h), 0, 0);
  } catch {
    // A malformed hash leaves the neutral background.
  }
}

// UTF-8 helpers for streaming validation. The fast path validates whole chunks natively
// (buffer.isUtf8); these functions only deal with chunk boundaries and with locating the bad byte
// once a chunk is known to be invalid.

/**
 * Number of bytes at the end of `buf` that start a multi-byte sequence not yet complete
 * (0–3). Those bytes are carried to the next chunk instead of being validated now.
 */
export function incompleteTailLength(buf: Uint8Array): number {
  const end = buf.length;
  const stop = Math.max(0, end - 3);
  for (let i = end - 1; i >= stop; i--) {
    const b = buf[i];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    if (b < 0xc0) return 0; // ASCII: everything before is complete
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    const have = end - i;
    return have < need ? have : 0;
  }
  return 0;
}

/**
 * Offset of the first byte that does not belong to a well-formed UTF-8 sequence
 * (overlong forms, surrogates and code points above U+10FFFF are ill-formed), or -1.
 * A sequence cut off by the end of the buffer counts as ill-formed at its lead byte.
 */
export function firstInvalidUtf8(buf: Uint8Array): number {
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    if (i + need >= n) return i;
    const c1 = buf[i + 1];
    if (c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const c = buf[i + k];
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Number of LF bytes in buf[from, to). */
export function countLf(buf: Uint8Array, from = 0, to = buf.length): number {
  let n = 0;
  let p = from - 1;
  while (true) {
    p = buf.indexOf(0x0a, p + 1);
    if (p === -1 || p >= to) return n;
    n++;
  }
}

/** Number of '\n' in text[from, to). */
export function countLfText(text: string, from = 0, to = text.length): number {
  let n = 0;
  let p = from - 1;
  while (true) {
    p = text.indexOf('\n', p + 1);
    if (p === -1 || p >= to) return n;
    n++;
  }
}

/**
 * Client address normalisation and hashing for ip-hash. The same client
 * must produce the same key however the socket spells its address: a
 * dual-stack server reports IPv4 clients as `::ffff:1.2.3.4`, and an IPv6
 * address has many spellings (case, leading zeros, where `::` goes).
 */

/**
 * The key for `addr`: IPv4 as is, IPv4-mapped IPv6 (any spelling) as the
 * plain IPv4, other IPv6 in RFC 5952 canonical form without its zone
 * (`%eth0`: the zone names our interface, not the client). Anything that
 * does not parse is only lowercased, so it still hashes consistently.
 */
export function normaliseAddress(addr: string): string {
  const a = addr.toLowerCase();
  if (!a.includes(':')) return a;
  const groups = parseIPv6(a.replace(/%.*$/, ''));
  if (groups === undefined) return a;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return canonicalIPv6(groups);
}

const HEX_GROUP = /^[0-9a-f]{1,4}$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Eight 16-bit groups, or undefined if `s` is not an IPv6 address. */
function parseIPv6(s: string): number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parts = (h: string | undefined): number[] | undefined => {
    if (h === undefined || h === '') return [];
    const out: number[] = [];
    const ps = h.split(':');
    for (const [k, p] of ps.entries()) {
      const v4 = IPV4.exec(p);
      // A dotted quad may only be the last 32 bits (e.g. ::ffff:1.2.3.4).
      if (v4 !== null && k === ps.length - 1) {
        const b = v4.slice(1).map(Number);
        if (b.some((x) => x > 255)) return undefined;
        out.push(((b[0] ?? 0) << 8) | (b[1] ?? 0), ((b[2] ?? 0) << 8) | (b[3] ?? 0));
      } else if (HEX_GROUP.test(p)) {
        out.push(parseInt(p, 16));
      } else return undefined;
    }
    return out;
  };
  const head = parts(halves[0]);
  const tail = parts(halves[1]);
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const zeros = 8 - head.length - tail.length;
  if (zeros < 1) return undefined;
  return [...head, ...new Array<number>(zeros).fill(0), ...tail];
}

/** RFC 5952: lowercase, no leading zeros, the longest run (>= 2) of zero groups as `::` (first on ties). */
function canonicalIPv6(groups: number[]): string {
  let runStart = -1;
  let runLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > runLen) [runStart, runLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (runLen < 2) return hex.join(':');
  return `${hex.slice(0, runStart).join(':')}::${hex.slice(runStart + runLen).join(':')}`;
}

/**
 * 32-bit FNV-1a, finished with murmur3's fmix32 avalanche. FNV-1a alone is
 * fast but mixes its last bytes poorly, and ring keys such as "3#17" and
 * "3#18" differ only there; without the finaliser their points cluster and
 * the ring's arcs get uneven. Not cryptographic: nothing here is secret.
 */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// Dropping file pages from this process's page tables (host/agent/trim.ts). Which ranges may go
// is decided here from /proc/self/pagemap; the shim only madvises.
// process.getBuiltinModule, not import: the engine loads this (see host/core/addr.ts).
const { closeSync, openSync, readSync } = process.getBuiltinModule('node:fs');
import type { Shim } from './shim.ts';
import { VigilError } from '../errors.ts';

const ENTRIES = 512;
const entries = new Uint32Array(ENTRIES * 2);

/**
 * The pages of [addr, addr + len) (whole pages) leave this process's page tables
 * (MADV_DONTNEED) if none of them is private: present or swapped and anonymous, per pagemap
 * (bit 63 present, 62 swapped, 61 file page or shared). Such a range is file pages (the node
 * binary's text, say) or shared memory, which stay in the page cache and come back by a minor
 * fault; a private page (a copy on write, the heap) would be lost, so a range with one is left
 * whole. The kB that were resident and dropped; 0 when the range was left or had none.
 */
export function dropCleanPages(s: Pick<Shim, 'madvise' | 'constants'>, addr: number, len: number): number {
  const psz = s.constants.PAGE_SIZE!;
  if (!(addr >= 0) || !(len > 0) || addr % psz || len % psz) throw new RangeError('address and length must be whole pages');
  const fd = openSync('/proc/self/pagemap', 'r');
  let resident = 0;
  try {
    for (let a = addr; a < addr + len;) {
      const want = Math.min((addr + len - a) / psz, ENTRIES);
      const n = readSync(fd, entries, 0, want * 8, (a / psz) * 8) >> 3;
      if (n <= 0) throw new VigilError('VIGIL_EMEMORY', `/proc/self/pagemap: nothing at ${a.toString(16)}`);
      for (let i = 0; i < n; i++) {
        const hi = entries[2 * i + 1]!;   // little-endian: bits 32-63
        if ((hi >>> 30) & 1 || ((hi >>> 31) && !((hi >>> 29) & 1))) return 0;
        resident += hi >>> 31;
      }
      a += n * psz;
    }
  } finally {
    closeSync(fd);
  }
  if (!resident) return 0;
  s.madvise(addr, len, s.constants.MADV_DONTNEED!);
  return resident * (psz / 1024);
}

// Giving back what only the start needed, once the engine runs. After a start the node
// binary's text and read-only data are ~40 MB of the engine's RSS (module loading, core.wasm's
// compile, Node's bootstrap), of which a running engine touches a few MB; its private memory
// (V8's heap, the core's, malloc's) is ~13 MB. The shim's dropCleanPages takes file pages out
// of this process's page tables: they stay in the page cache, shared (the supervisor's Node
// maps the same binary), and a page used again comes back by a minor fault. Done in small
// steps between adverts (the engine's pump): one madvise is a TLB shootdown, 0.1-1.3 ms here,
// and all of it at once took 7-14 ms, an advert's worth at 10 ms.
// process.getBuiltinModule, not import: see host/core/addr.ts.
const { readFileSync } = process.getBuiltinModule('node:fs');
import type { Shim } from '../net/shim.ts';

// One dropCleanPages call covers at most this much address space.
const CHUNK = 2 * 1024 * 1024;

/**
 * The readable, unwritable file mappings of /proc/PID/maps text, as [address, length] chunks of
 * at most CHUNK bytes. Anonymous and special mappings ([vdso], [stack]: inode 0) are left out;
 * a chunk that holds a private page (RELRO after relocation) is refused by the shim itself.
 */
export function fileChunks(maps: string, chunk = CHUNK): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) r-[x-][ps] [0-9a-f]+ \S+ (\d+)/.exec(line);
    if (!m || m[3] === '0') continue;
    const end = parseInt(m[2]!, 16);
    for (let a = parseInt(m[1]!, 16); a < end; a += chunk) out.push([a, Math.min(chunk, end - a)]);
  }
  return out;
}

type TrimShim = Pick<Shim, 'mallocTrim' | 'dropCleanPages'>;

export class MemoryTrim {
  private chunks: Array<[number, number]> | undefined;
  private next = 0;
  droppedKb = 0;
  private readonly shim: TrimShim;
  private readonly maps: () => string;
  constructor(shim: TrimShim, maps = () => readFileSync('/proc/self/maps', 'utf8')) {
    this.shim = shim;
    this.maps = maps;
  }

  /**
   * One step, within about budgetMs: the first gives malloc's free pages back and lists the
   * mappings, each next one drops chunks. False once it is done.
   */
  step(budgetMs = 1): boolean {
    if (!this.chunks) {
      this.shim.mallocTrim();
      this.chunks = fileChunks(this.maps());
      return this.chunks.length > 0;
    }
    const until = performance.now() + budgetMs;
    while (this.next < this.chunks.length) {
      const [addr, len] = this.chunks[this.next++]!;
      this.droppedKb += this.shim.dropCleanPages(addr, len);
      if (performance.now() >= until) break;
    }
    return this.next < this.chunks.length;
  }
}

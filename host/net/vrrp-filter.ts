// The VRRP receive socket's filter, in the kernel (eBPF, SO_ATTACH_BPF): packets the core would
// drop anyway are dropped before they cost the engine a wake-up, a recvmsg and a core call, and
// counted by reason in a map that /status adds to the core's counts. Under a flood of bad VRRP
// (make chaos: 100,000 packets/s of four kinds) that was most of the engine's CPU; keepalived
// filters in the kernel too, but counts nothing.
// Checked in the core's order, each as the core names it: truncated (under the 8-byte VRRP
// header), version (not 2 or 3), type (not an advertisement), vrid_unknown (no instance on this
// interface), ttl (not 255; only where no instance on the interface has unicast peers, whose
// adverts the core takes at any TTL). The rest (checksum, lengths, auth) is the core's.
// Where the kernel refuses (no bpf(2): some containers, qemu-user), the socket goes unfiltered
// and the core counts everything, as before.
import { BpfAsm, BPF_FUNC_map_lookup_elem, R0, R1, R2, R6, R7, R8, R9, R10, SKF_NET_OFF } from './bpf-asm.ts';
import { NetError } from './errors.ts';
import { K, shim, type Shim } from './shim.ts';

export const FILTER_REASONS = ['truncated', 'version', 'type', 'vrid_unknown', 'ttl'] as const;
export type FilterReason = typeof FILTER_REASONS[number];

const BPF_MAP_TYPE_ARRAY = 2, BPF_PROG_TYPE_SOCKET_FILTER = 1;

// bpf.c's ops (host/native/bpf.c), beside the shim's socket ops.
interface BpfOps {
  bpfMapCreate(type: number, keySize: number, valueSize: number, maxEntries: number): number;
  bpfProgLoad(type: number, insns: Uint8Array, log: Uint8Array): number;
  bpfMapLookup(fd: number, key: Uint8Array, value: Uint8Array): void;
}
const ops = () => shim() as Shim & BpfOps;

export interface FilterSpec {
  family: 4 | 6;
  /** The VRIDs of the instances on this socket's interface. */
  vrids: readonly number[];
  /** Drop a TTL / hop limit other than 255 (false: an instance here has unicast peers). */
  ttl: boolean;
}

/** The program for `spec`, counting into the array map `mapFd` (one u64 per FILTER_REASONS). */
export function filterProgram(spec: FilterSpec, mapFd: number): Uint8Array {
  const a = new BpfAsm();
  a.movReg(R6, R1);                       // the skb, which the packet loads take from R6
  a.ldxW(R9, R6, 0);                      // skb->len: the bytes recvmsg would return
  if (spec.family === 4) {
    // A raw IPv4 socket's data starts at the IP header: the VRRP header is IHL x 4 in.
    a.ldAbsB(0).andImm(R0, 0x0f).lshImm(R0, 2).movReg(R7, R0);
  } else {
    a.movImm(R7, 0);                      // IPv6: at the VRRP header
  }
  a.movReg(R8, R7).addImm(R8, 8).jgtReg(R8, R9, 'truncated');
  a.ldIndB(R7, 0).movReg(R8, R0).rshImm(R8, 4);
  a.jeqImm(R8, 2, 'versionOk').jeqImm(R8, 3, 'versionOk').ja('version');
  a.label('versionOk').andImm(R0, 0x0f).jneImm(R0, 1, 'type');
  a.ldIndB(R7, 1);
  for (const v of new Set(spec.vrids)) a.jeqImm(R0, v, 'vridOk');
  a.ja('vrid_unknown');
  a.label('vridOk');
  if (spec.ttl) a.ldAbsB(spec.family === 4 ? 8 : SKF_NET_OFF + 7).jneImm(R0, 255, 'ttl');
  a.movReg(R0, R9).exit();                // kept whole
  FILTER_REASONS.forEach((r, i) => a.label(r).stW(R10, -4, i).ja('count'));
  a.label('count').ldMapFd(R1, mapFd).movReg(R2, R10).addImm(R2, -4).call(BPF_FUNC_map_lookup_elem);
  a.jeqImm(R0, 0, 'drop').movImm(R1, 1).atomicAddDW(R0, R1, 0);
  a.label('drop').movImm(R0, 0).exit();   // 0 bytes kept: dropped
  return a.bytes();
}

export class VrrpFilter {
  private readonly key = new Uint8Array(4);
  private readonly value = new BigUint64Array(1);
  private readonly mapFd: number;
  private progFd = -1;
  private constructor(mapFd: number) { this.mapFd = mapFd; }

  /** Attaches `spec`'s filter to socket `fd`; throws a NetError (VIGIL_EBPF) with the kernel's reason. */
  static attach(fd: number, spec: FilterSpec): VrrpFilter {
    const s = ops();
    const mapFd = s.bpfMapCreate(BPF_MAP_TYPE_ARRAY, 4, 8, FILTER_REASONS.length);
    try {
      const f = new VrrpFilter(mapFd);
      f.update(fd, spec);
      return f;
    } catch (e) {
      s.close(mapFd);
      throw e;
    }
  }

  /** A new program for new VRIDs (a reload), counting on into the same map. */
  update(fd: number, spec: FilterSpec): void {
    const s = ops();
    const log = new Uint8Array(16384);
    let prog: number;
    try {
      prog = s.bpfProgLoad(BPF_PROG_TYPE_SOCKET_FILTER, filterProgram(spec, this.mapFd), log);
    } catch (e) {
      const why = new TextDecoder().decode(log.subarray(0, Math.max(0, log.indexOf(0)))).trim().split('\n').slice(-3).join('; ');
      throw new NetError(`the kernel refused the VRRP socket filter: ${(e as Error).message}${why ? ` (${why})` : ''}`, 'VIGIL_EBPF', { cause: e });
    }
    try {
      s.setsockoptInt(fd, K('SOL_SOCKET'), K('SO_ATTACH_BPF'), prog);
    } catch (e) {
      s.close(prog);
      throw new NetError(`attaching the VRRP socket filter failed: ${(e as Error).message}`, 'VIGIL_EBPF', { cause: e });
    }
    if (this.progFd >= 0) s.close(this.progFd);   // the socket holds its own reference
    this.progFd = prog;
  }

  /** What the kernel dropped so far, by reason (only the reasons with any). */
  counts(): Partial<Record<FilterReason, number>> {
    const s = ops(), out: Partial<Record<FilterReason, number>> = {};
    const dv = new DataView(this.key.buffer);
    FILTER_REASONS.forEach((r, i) => {
      dv.setUint32(0, i, true);
      try {
        s.bpfMapLookup(this.mapFd, this.key, new Uint8Array(this.value.buffer));
        if (this.value[0]! > 0n) out[r] = Number(this.value[0]);
      } catch { /* the map is gone with the socket: nothing more to count */ }
    });
    return out;
  }

  close(): void {
    const s = ops();
    if (this.progFd >= 0) s.close(this.progFd);
    s.close(this.mapFd);
    this.progFd = -1;
  }
}

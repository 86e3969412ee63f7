// The record of one VRRP virtual router (RFC 5798 §3) as the engine runs it
// (host/agent/engine-state.ts): its config, its slot in the core, its place on the box, the
// core's last word on its VIPs, its transitions, and its unicast peers for the SEND commands.
import { parseAddress } from '../core/addr.ts';
import type { StateName, ReasonName } from '../core/codes.ts';
import type { InstanceSpec } from './spec.ts';

/** What the driver found out about a router's place on the box before adding it. */
export interface RouterEnv {
  ifindex: number;
  ifname: string;                 // where it speaks: the interface, or its VMAC
  mac: string | null;             // aa:bb:..., the interface's (or the VMAC's)
  source: string;                 // the socket's source address (IPv6: link-local)
  linkFailing: boolean;           // the interface is down or not running
  // Per entry of track.interfaces: down (or missing: true)
  tracksFailing: boolean[];
  vmac: { name: string; mac: string } | null;
}

export interface TransitionRecord { at: string; atUs: number; from: StateName; to: StateName; reason: ReasonName; why: string }

/** A VRRP virtual router (RFC 5798 §3) as the engine runs it. `W`: the driver's own per-router data. */
export class VirtualRouter<W = unknown> {
  spec: InstanceSpec;
  readonly slot: number;
  readonly env: RouterEnv;
  group: number;
  wantVips = false;               // the core's last word: hold the VIPs
  transitions: TransitionRecord[] = [];
  // Unicast peers by a 30-bit key of their 16-byte address (a Smi: no allocation to look up),
  // to find the peer a SEND is for without a search; -1 when none.
  private peerKeys = new Map<number, number>();
  private peerAddrs: Uint8Array[] = [];
  wire: W | undefined;
  constructor(spec: InstanceSpec, slot: number, env: RouterEnv, group: number) {
    this.spec = spec; this.slot = slot; this.env = env; this.group = group;
    this.setPeers();
  }
  setPeers(): void {
    this.peerKeys.clear();
    this.peerAddrs = (this.spec.unicastPeers ?? []).map((p) => parseAddress(p));
    this.keysCollide = false;
    this.peerAddrs.forEach((a, i) => {
      const k = keyOf(a, 16);
      if (this.peerKeys.has(k)) this.keysCollide = true;
      else this.peerKeys.set(k, i);
    });
  }
  // Two peers with one key (possible for IPv6): those past the first are found by a search.
  private keysCollide = false;
  /** The unicast peer `dst` (the core's 4- or 16-byte form) is, or -1: the multicast group. */
  peerOf(dst: Uint8Array): number {
    if (this.peerAddrs.length === 0) return -1;
    const i = this.peerKeys.get(keyOf(dst, dst.length));
    if (i !== undefined && same(this.peerAddrs[i]!, dst)) return i;
    if (this.keysCollide) for (let k = 0; k < this.peerAddrs.length; k++) if (same(this.peerAddrs[k]!, dst)) return k;
    return -1;
  }
}

function keyOf(a: Uint8Array, n: number): number {
  let h = 0;
  for (let i = 0; i < n; i += 4) h ^= ((a[i]! << 24) | (a[i + 1]! << 16) | (a[i + 2]! << 8) | a[i + 3]!);
  // IPv4 addresses sit in the first 4 of the 16 bytes, zeros after: the same key either way.
  return (h ^ (h >>> 30)) & 0x3fffffff;
}

function same(a: Uint8Array, dst: Uint8Array): boolean {
  for (let k = 0; k < dst.length; k++) if (a[k] !== dst[k]) return false;
  return true;
}

// The only code that touches core.wasm's raw exports. It keeps typed views over the module's
// preallocated buffers so the per-packet path copies bytes in and reads results in place:
// no allocation per packet (bench/core.ts measures it).
// process.getBuiltinModule, not import: see host/core/addr.ts.
const { readFileSync } = process.getBuiltinModule('node:fs');
const { fileURLToPath } = process.getBuiltinModule('node:url');
const { getRawAsset, isSea } = process.getBuiltinModule('node:sea');
import { CoreConfigError, CoreLoadError } from '../errors.ts';
import { parseAddress, formatAddress, type Family } from './addr.ts';
import { CFG_ERRORS, DROP_REASONS, DROP_TEXT, STATES, REASONS, COUNTERS, ACTION,
  type DropReason, type StateName, type ReasonName, type CounterName } from './codes.ts';

export const CORE_WASM_PATH = fileURLToPath(new URL('../../core-wasm/build/core.wasm', import.meta.url));

// The raw ABI, as core-wasm/assembly/index.ts declares it. Globals arrive as WebAssembly.Global.
export interface RawCore {
  memory: WebAssembly.Memory;
  bufIn(): number; bufCfg(): number; bufFrame(): number; bufOut(): number; bufActions(): number; bufInfo(): number;
  bufActionCount(): number;
  dropReasons(): number; counterCount(): number;
  decodeIp(len: number): number;
  decodeBare(len: number, family: number, ttl: number): number;
  encode(version: number, family: number, vrid: number, priority: number, count: number,
    advertInt: number, authType: number, ipHeader: number, ttl: number): number;
  garp(): number; na(router: number): number;
  instanceAlloc(): number; instanceFree(slot: number, now: number): void;
  instanceConfigure(slot: number, ifindex: number, vrid: number, version: number, family: number,
    priority: number, advertIntervalCs: number, preempt: number, preemptDelayCs: number,
    acceptMode: number, authType: number): number;
  instanceSetAddresses(slot: number, kind: number, count: number): number;
  instanceSetGroup(slot: number, group: number): number;
  instanceStart(slot: number, now: number): number;
  instanceStop(slot: number, now: number): number;
  instanceTrack(slot: number, index: number, weight: number, failing: number, now: number): number;
  handleIp(now: number, ifindex: number, len: number): number;
  handleVrrp(now: number, ifindex: number, family: number, ttl: number, len: number): number;
  handleTimeout(now: number): number;
  handleTimeoutNext(now: number): number;
  pollTimeout(): number;
  actionCount(): number; actionsClear(): void; actionOverflows(): number;
  dropTotal(reason: number): number;
  instanceState(slot: number): number; instanceEffectivePriority(slot: number): number;
  instanceCounter(slot: number, which: number): number; instanceDrops(slot: number, reason: number): number;
  instanceMasterDownInterval(slot: number): number; instanceSkewTime(slot: number): number;
  instanceMasterAdverInterval(slot: number): number; instanceMasterPriority(slot: number): number;
  instanceMasterAddress(slot: number): number; instanceLastReason(slot: number): number;
  instanceLastTransition(slot: number): number; instanceNextDeadline(slot: number): number;
  availability(mttf: number, mttr: number): number; ninesOf(a: number): number;
  availabilityOfNines(n: number): number; downtimeAllowed(a: number, period: number): number;
  secondsPerYear(): number; secondsPerMonth(): number; secondsPerWeek(): number;
  instanceUpTime(slot: number, now: number): number; instanceDownTime(slot: number, now: number): number;
  instanceFailures(slot: number): number; instanceRepairs(slot: number): number;
  instanceMttf(slot: number, now: number): number; instanceMttr(slot: number): number;
  instanceAvailability(slot: number, now: number): number;
  [global: string]: unknown;
}

let cachedModule: WebAssembly.Module | undefined;

// Little-endian fields of the action records, read byte by byte: DataView's getters are builtin
// calls in the engine's Maglev code (module functions, not closures: a closure over drain's
// locals made it allocate a context on every call).
const u16 = (m: Uint8Array, p: number) => m[p]! | (m[p + 1]! << 8);
const u32 = (m: Uint8Array, p: number) => (m[p]! | (m[p + 1]! << 8) | (m[p + 2]! << 16) | (m[p + 3]! << 24)) >>> 0;

export function coreModule(path = CORE_WASM_PATH): WebAssembly.Module {
  if (cachedModule && path === CORE_WASM_PATH) return cachedModule;
  let bytes: Buffer;
  try {
    // The single executable (`make dist`, packaging/) carries core.wasm as an asset.
    bytes = isSea() && path === CORE_WASM_PATH ? Buffer.from(getRawAsset('core.wasm')) : readFileSync(path);
  } catch (err) {
    throw new CoreLoadError(`cannot read ${path}: run \`make core\` first`, { cause: err });
  }
  const mod = new WebAssembly.Module(new Uint8Array(bytes));
  if (path === CORE_WASM_PATH) cachedModule = mod;
  return mod;
}

function g(raw: RawCore, name: string): number {
  const v = raw[name];
  if (!(v instanceof WebAssembly.Global)) throw new CoreLoadError(`core.wasm does not export ${name}`);
  return Number(v.value);
}

export interface DecodedPacket {
  valid: boolean;
  drop: DropReason;
  dropText: string;
  family: Family;
  source: string;
  destination: string;
  ttl: number;
  version: number;
  type: number;
  vrid: number;
  priority: number;
  count: number;
  advertInterval: number;          // v3: centiseconds, v2: seconds
  advertIntervalUnit: 'centiseconds' | 'seconds';
  authType?: number;              // v2
  authData?: string;              // v2 type 1: the password as carried (NULs stripped)
  checksum: number;
  checksumValid: boolean;
  addresses: string[];
  length: number;                 // VRRP message length
}

export interface InstanceConfig {
  ifindex: number;
  vrid: number;
  version: 2 | 3;
  family: Family;
  priority: number;
  advertIntervalCs: number;        // v2: whole seconds x 100
  preempt: boolean;
  preemptDelayCs?: number;
  acceptMode?: boolean;
  auth?: { type: 'none' } | { type: 'pass'; password: string };
  primary: string;                // our source address (IPv6: link-local)
  vips: string[];
  peers?: string[];               // unicast; absent or empty = multicast
  group?: number;                 // sync group index, -1 / absent = none
}

// A host's view of one queued action. The handler variant does not allocate.
export interface ActionHandler {
  transition(slot: number, from: StateName, to: StateName, reason: ReasonName): void;
  send(slot: number, family: Family, priority: number, bytes: Uint8Array, destination: Uint8Array): void;
  vips(slot: number, add: boolean): void;
  announce(slot: number): void;
}

export type Action =
  | { kind: 'transition'; slot: number; from: StateName; to: StateName; reason: ReasonName }
  | { kind: 'send'; slot: number; family: Family; priority: number; bytes: Uint8Array; destination: string }
  | { kind: 'vipsAdd' | 'vipsDel' | 'announce'; slot: number };

export class Core {
  readonly raw: RawCore;
  readonly mem: Uint8Array;
  readonly view: DataView;
  readonly inBuf: Uint8Array;
  readonly cfg: Uint8Array;
  readonly frame: Uint8Array;
  readonly out: Uint8Array;
  readonly infoAt: number;
  readonly actionsAt: number;
  private readonly outAt: number;
  readonly L: Readonly<Record<string, number>>;
  // Reused views so drain() does not allocate per advert: the bytes and the destination of
  // action i, remade only when its place or length in the memory changes (it rarely does); the
  // place and length kept as numbers (a view's byteOffset / length / buffer are builtin calls).
  private readonly sendViews: Uint8Array[] = [];
  private readonly sendOff: number[] = [];
  private readonly sendLen: number[] = [];
  private readonly dstViews: Uint8Array[] = [];
  private readonly dstLen: number[] = [];
  // The action count, read in place (the core keeps it), and the record layout as plain fields:
  // L is a dictionary, each lookup a generic load on the per-advert path.
  private readonly count: Uint32Array;
  private readonly act: { size: number; kind: number; instance: number; from: number; to: number; reason: number;
    family: number; priority: number; off: number; len: number; dst: number };

  constructor(module: WebAssembly.Module = coreModule()) {
    const inst = new WebAssembly.Instance(module, {});
    this.raw = inst.exports as unknown as RawCore;
    const buf = this.raw.memory.buffer;
    this.mem = new Uint8Array(buf);
    this.view = new DataView(buf);
    const names = ['IN_SIZE', 'CFG_SIZE', 'FRAME_SIZE', 'OUT_SIZE', 'ACTION_SIZE', 'ACTION_CAP',
      'INFO_VERSION', 'INFO_TYPE', 'INFO_VRID', 'INFO_PRIORITY', 'INFO_COUNT', 'INFO_AUTH_TYPE',
      'INFO_FAMILY', 'INFO_TTL', 'INFO_ADVER_INT', 'INFO_CHECKSUM', 'INFO_CHECKSUM_OK', 'INFO_DROP',
      'INFO_VRRP_OFF', 'INFO_VRRP_LEN', 'INFO_ADDR_OFF', 'INFO_AUTH_OFF', 'INFO_SRC', 'INFO_DST',
      'ACT_KIND', 'ACT_REASON', 'ACT_FROM', 'ACT_TO', 'ACT_INSTANCE', 'ACT_FAMILY', 'ACT_PRIORITY',
      'ACT_OFF', 'ACT_LEN', 'ACT_DST', 'MAX_INSTANCES', 'MAX_VIPS', 'MAX_PEERS', 'MAX_TRACKS',
      'MAX_GROUPS', 'ADDR_PRIMARY', 'ADDR_VIPS', 'ADDR_PEERS', 'ADDR_AUTH'];
    const L: Record<string, number> = {};
    for (const n of names) L[n] = g(this.raw, n);
    this.L = L;
    if (this.raw.dropReasons() !== DROP_REASONS.length || this.raw.counterCount() !== COUNTERS.length) {
      throw new CoreLoadError('core.wasm and host/core/codes.ts disagree on drop reasons or counters: rebuild with `make core`');
    }
    this.inBuf = this.mem.subarray(this.raw.bufIn(), this.raw.bufIn() + L.IN_SIZE);
    this.cfg = this.mem.subarray(this.raw.bufCfg(), this.raw.bufCfg() + L.CFG_SIZE);
    this.frame = this.mem.subarray(this.raw.bufFrame(), this.raw.bufFrame() + L.FRAME_SIZE);
    this.out = this.mem.subarray(this.raw.bufOut(), this.raw.bufOut() + L.OUT_SIZE);
    this.infoAt = this.raw.bufInfo();
    this.actionsAt = this.raw.bufActions();
    this.outAt = this.raw.bufOut();
    this.count = new Uint32Array(buf, this.raw.bufActionCount(), 1);
    this.act = { size: L.ACTION_SIZE, kind: L.ACT_KIND, instance: L.ACT_INSTANCE, from: L.ACT_FROM, to: L.ACT_TO,
      reason: L.ACT_REASON, family: L.ACT_FAMILY, priority: L.ACT_PRIORITY, off: L.ACT_OFF, len: L.ACT_LEN, dst: L.ACT_DST };
  }

  // ---- codec ----------------------------------------------------------------------------------

  decodeIp(packet: Uint8Array): DecodedPacket {
    const len = Math.min(packet.length, this.inBuf.length);
    this.inBuf.set(packet.subarray(0, len));
    this.raw.decodeIp(len);
    return this.readInfo();
  }

  // A bare VRRP message with its carrier's details, as an IPv6 raw socket delivers it.
  decodeBare(message: Uint8Array, family: Family, ttl: number, source: string, destination: string): DecodedPacket {
    const len = Math.min(message.length, this.inBuf.length);
    this.inBuf.set(message.subarray(0, len));
    parseAddress(source, this.mem, this.infoAt + this.L.INFO_SRC);
    parseAddress(destination, this.mem, this.infoAt + this.L.INFO_DST);
    this.raw.decodeBare(len, family, ttl);
    return this.readInfo();
  }

  private readInfo(): DecodedPacket {
    const L = this.L, at = this.infoAt, m = this.mem;
    const u8 = (f: number) => m[at + f];
    const u16 = (f: number) => this.view.getUint16(at + f, true);
    const family = (u8(L.INFO_FAMILY) === 6 ? 6 : 4) as Family;
    const version = u8(L.INFO_VERSION);
    const count = u8(L.INFO_COUNT);
    const drop = DROP_REASONS[u8(L.INFO_DROP)] ?? 'truncated';
    const vrrpOff = u16(L.INFO_VRRP_OFF), vrrpLen = u16(L.INFO_VRRP_LEN);
    const addrOff = u16(L.INFO_ADDR_OFF);
    const alen = family === 6 ? 16 : 4;
    const addresses: string[] = [];
    // Only addresses that are really inside the message are shown.
    for (let i = 0; i < count && addrOff + (i + 1) * alen <= vrrpOff + vrrpLen; i++) {
      addresses.push(formatAddress(this.inBuf, family, addrOff + i * alen));
    }
    const d: DecodedPacket = {
      valid: drop === 'none',
      drop,
      dropText: DROP_TEXT[drop],
      family,
      source: formatAddress(m, family, at + L.INFO_SRC),
      destination: formatAddress(m, family, at + L.INFO_DST),
      ttl: u8(L.INFO_TTL),
      version,
      type: u8(L.INFO_TYPE),
      vrid: u8(L.INFO_VRID),
      priority: u8(L.INFO_PRIORITY),
      count,
      advertInterval: u16(L.INFO_ADVER_INT),
      advertIntervalUnit: version === 2 ? 'seconds' : 'centiseconds',
      checksum: u16(L.INFO_CHECKSUM),
      checksumValid: u8(L.INFO_CHECKSUM_OK) === 1,
      addresses,
      length: vrrpLen,
    };
    if (version === 2) {
      d.authType = u8(L.INFO_AUTH_TYPE);
      const authOff = u16(L.INFO_AUTH_OFF);
      if (d.authType === 1 && authOff > 0) {
        const raw = this.inBuf.subarray(authOff, authOff + 8);
        const end = raw.indexOf(0);
        d.authData = Buffer.from(raw.subarray(0, end < 0 ? 8 : end)).toString('latin1');
      }
    }
    return d;
  }

  // Encodes an advert (with an IP header when ipHeader) and returns a copy of the bytes.
  encode(p: {
    version: 2 | 3; family: Family; vrid: number; priority: number; advertInterval: number;
    addresses: string[]; source: string; destination: string; authType?: number; authData?: string;
    ipHeader?: boolean; ttl?: number;
  }): Uint8Array {
    this.cfg.fill(0, 0, 48);
    parseAddress(p.source, this.cfg, 0);
    parseAddress(p.destination, this.cfg, 16);
    if (p.authData !== undefined) this.cfg.set(Buffer.from(p.authData, 'latin1').subarray(0, 8), 32);
    const alen = p.family === 6 ? 16 : 4;
    const tmp = new Uint8Array(16);
    p.addresses.forEach((a, i) => { parseAddress(a, tmp); this.cfg.set(tmp.subarray(0, alen), 48 + i * alen); });
    const n = this.raw.encode(p.version, p.family, p.vrid, p.priority, p.addresses.length, p.advertInterval,
      p.authType ?? 0, p.ipHeader ? 1 : 0, p.ttl ?? 255);
    if (n < 0) throw new CoreConfigError('encode', 'encode: arguments out of range');
    return this.out.slice(0, n);
  }

  garp(mac: Uint8Array, ip: string): Uint8Array {
    this.cfg.set(mac.subarray(0, 6), 0);
    parseAddress(ip, this.cfg, 16);
    return this.frame.slice(0, this.raw.garp());
  }

  na(mac: Uint8Array, source: string, target: string, router = false): Uint8Array {
    this.cfg.set(mac.subarray(0, 6), 0);
    parseAddress(source, this.cfg, 16);
    parseAddress(target, this.cfg, 32);
    return this.frame.slice(0, this.raw.na(router ? 1 : 0));
  }

  // ---- instances ------------------------------------------------------------------------------

  private check(code: number, what: string): void {
    if (code !== 0) {
      const reason = CFG_ERRORS[code] ?? String(code);
      throw new CoreConfigError(reason, `core refused ${what}: ${reason}`);
    }
  }

  addInstance(c: InstanceConfig): number {
    const slot = this.raw.instanceAlloc();
    if (slot < 0) throw new CoreConfigError('no_slot', `core holds at most ${this.L.MAX_INSTANCES} instances`);
    try {
      this.configure(slot, c);
    } catch (err) {
      this.raw.instanceFree(slot, 0);
      throw err;
    }
    return slot;
  }

  configure(slot: number, c: InstanceConfig): void {
    const authType = c.auth?.type === 'pass' ? 1 : 0;
    this.check(this.raw.instanceConfigure(slot, c.ifindex, c.vrid, c.version, c.family, c.priority,
      c.advertIntervalCs, c.preempt ? 1 : 0, c.preemptDelayCs ?? 0, c.acceptMode ? 1 : 0, authType), `instance VRID ${c.vrid}`);
    this.setAddresses(slot, this.L.ADDR_PRIMARY, [c.primary]);
    this.setAddresses(slot, this.L.ADDR_VIPS, c.vips);
    this.setAddresses(slot, this.L.ADDR_PEERS, c.peers ?? []);
    if (c.auth?.type === 'pass') {
      this.cfg.fill(0, 0, 8);
      this.cfg.set(Buffer.from(c.auth.password, 'latin1').subarray(0, 8), 0);
      this.check(this.raw.instanceSetAddresses(slot, this.L.ADDR_AUTH, 1), 'auth');
    }
    this.check(this.raw.instanceSetGroup(slot, c.group ?? -1), 'sync group');
  }

  private setAddresses(slot: number, kind: number, addrs: string[]): void {
    this.cfg.fill(0, 0, Math.max(16, addrs.length * 16));
    addrs.forEach((a, i) => parseAddress(a, this.cfg, i * 16));
    this.check(this.raw.instanceSetAddresses(slot, kind, addrs.length), 'addresses');
  }

  start(slot: number, now: number): void { this.check(this.raw.instanceStart(slot, now), 'start'); }
  stop(slot: number, now: number): void { this.check(this.raw.instanceStop(slot, now), 'stop'); }
  remove(slot: number, now: number): void { this.raw.instanceFree(slot, now); }
  track(slot: number, index: number, weight: number, failing: boolean, now: number): void {
    this.check(this.raw.instanceTrack(slot, index, weight, failing ? 1 : 0, now), 'track');
  }

  // ---- events ---------------------------------------------------------------------------------

  // The packet is already in inBuf (a socket read straight into it): the zero-copy path.
  handleIpInPlace(now: number, ifindex: number, len: number): DropReason {
    return DROP_REASONS[this.raw.handleIp(now, ifindex, len)];
  }

  handleIp(now: number, ifindex: number, packet: Uint8Array): DropReason {
    this.copyIn(packet);
    return DROP_REASONS[this.raw.handleIp(now, ifindex, packet.length)];
  }

  // A bare VRRP message with the carrier's source and destination (16-byte slots), as an IPv6
  // raw socket reports them; the v3 checksum's pseudo-header needs both.
  handleVrrp(now: number, ifindex: number, family: Family, ttl: number, source: Uint8Array,
    destination: Uint8Array, message: Uint8Array): DropReason {
    this.copyIn(message);
    return this.handleVrrpInPlace(now, ifindex, family, ttl, source, destination, message.length);
  }

  // The same, with the message already in inBuf[0, len) (a socket read straight into it).
  handleVrrpInPlace(now: number, ifindex: number, family: Family, ttl: number, source: Uint8Array,
    destination: Uint8Array, len: number): DropReason {
    // Plain loops: TypedArray#fill / #set / #subarray cost a builtin call or an allocation each.
    const m = this.mem, src = this.infoAt + this.L.INFO_SRC, dst = this.infoAt + this.L.INFO_DST;
    const n = family === 6 ? 16 : 4;
    for (let i = 0; i < 16; i++) {
      m[src + i] = i < n ? source[i] : 0;
      m[dst + i] = i < n ? destination[i] : 0;
    }
    return DROP_REASONS[this.raw.handleVrrp(now, ifindex, family, ttl, len)];
  }

  private copyIn(bytes: Uint8Array): void {
    if (bytes.length <= this.inBuf.length) this.inBuf.set(bytes);
    else this.inBuf.set(bytes.subarray(0, this.inBuf.length));
  }

  // Fires due timers; drains through `handler` whenever the core's queue fills. Returns the
  // next deadline (pollTimeout's, from the same call: one crossing into the core per wake-up).
  handleTimeout(now: number, handler?: ActionHandler): number {
    let next: number;
    while ((next = this.raw.handleTimeoutNext(now)) < 0) {
      if (!handler) throw new CoreConfigError('actions', 'action queue full: pass a handler to drain it');
      this.drain(handler);
    }
    return next;
  }

  pollTimeout(): number { return this.raw.pollTimeout(); }

  // ---- actions --------------------------------------------------------------------------------

  drain(h: ActionHandler): void {
    const n = this.count[0]!;
    // An empty queue has nothing to clear (no advert bytes are held without their record).
    if (n === 0) return;
    const A = this.act, m = this.mem, outAt = this.outAt;
    for (let i = 0; i < n; i++) {
      const r = this.actionsAt + i * A.size;
      const slot = u16(m, r + A.instance);
      switch (m[r + A.kind]) {
        case ACTION.transition:
          h.transition(slot, STATES[m[r + A.from]!]!, STATES[m[r + A.to]!]!, REASONS[m[r + A.reason]!]!);
          break;
        case ACTION.send: {
          const off = u32(m, r + A.off), len = u32(m, r + A.len);
          const family = (m[r + A.family] === 6 ? 6 : 4) as Family;
          // The memory never grows (its buffers are static), so a view's place is all that can change.
          let bytes = this.sendViews[i];
          if (bytes === undefined || this.sendOff[i] !== off || this.sendLen[i] !== len) {
            bytes = this.sendViews[i] = m.subarray(outAt + off, outAt + off + len);
            this.sendOff[i] = off;
            this.sendLen[i] = len;
          }
          const dlen = family === 6 ? 16 : 4;
          let dst = this.dstViews[i];
          if (dst === undefined || this.dstLen[i] !== dlen) {
            dst = this.dstViews[i] = m.subarray(r + A.dst, r + A.dst + dlen);
            this.dstLen[i] = dlen;
          }
          h.send(slot, family, m[r + A.priority]!, bytes, dst);
          break;
        }
        case ACTION.vipsAdd: h.vips(slot, true); break;
        case ACTION.vipsDel: h.vips(slot, false); break;
        case ACTION.announce: h.announce(slot); break;
      }
    }
    this.raw.actionsClear();
  }

  // Allocating convenience for tests and tools.
  takeActions(): Action[] {
    const list: Action[] = [];
    this.drain({
      transition: (slot, from, to, reason) => list.push({ kind: 'transition', slot, from, to, reason }),
      send: (slot, family, priority, bytes, dst) =>
        list.push({ kind: 'send', slot, family, priority, bytes: bytes.slice(), destination: formatAddress(dst, family) }),
      vips: (slot, add) => list.push({ kind: add ? 'vipsAdd' : 'vipsDel', slot }),
      announce: (slot) => list.push({ kind: 'announce', slot }),
    });
    return list;
  }

  // ---- getters --------------------------------------------------------------------------------

  state(slot: number): StateName { return STATES[this.raw.instanceState(slot)]; }
  effectivePriority(slot: number): number { return this.raw.instanceEffectivePriority(slot); }
  counter(slot: number, name: CounterName): number { return this.raw.instanceCounter(slot, COUNTERS.indexOf(name)); }
  drops(slot: number): Partial<Record<DropReason, number>> {
    const o: Partial<Record<DropReason, number>> = {};
    DROP_REASONS.forEach((r, i) => { const v = this.raw.instanceDrops(slot, i); if (v) o[r] = v; });
    return o;
  }
  dropTotals(): Partial<Record<DropReason, number>> {
    const o: Partial<Record<DropReason, number>> = {};
    DROP_REASONS.forEach((r, i) => { const v = this.raw.dropTotal(i); if (v) o[r] = v; });
    return o;
  }
  masterDownIntervalUs(slot: number): number { return this.raw.instanceMasterDownInterval(slot); }
  skewTimeUs(slot: number): number { return this.raw.instanceSkewTime(slot); }
  masterAdverIntervalCs(slot: number): number { return this.raw.instanceMasterAdverInterval(slot); }
  masterAddress(slot: number, family: Family): string {
    this.raw.instanceMasterAddress(slot);
    return formatAddress(this.cfg, family, 0);
  }
  masterPriority(slot: number): number { return this.raw.instanceMasterPriority(slot); }
  lastReason(slot: number): ReasonName { return REASONS[this.raw.instanceLastReason(slot)]; }
  observed(slot: number, now: number) {
    return {
      upUs: this.raw.instanceUpTime(slot, now),
      downUs: this.raw.instanceDownTime(slot, now),
      failures: this.raw.instanceFailures(slot),
      repairs: this.raw.instanceRepairs(slot),
      mttfUs: this.raw.instanceMttf(slot, now),
      mttrUs: this.raw.instanceMttr(slot),
      availability: this.raw.instanceAvailability(slot, now),
    };
  }
}

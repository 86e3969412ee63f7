// Gratuitous ARP and unsolicited Neighbor Advertisements on the wire. The frames (Ethernet
// header included) come from the core, or any caller: this module only puts bytes out of an
// interface through AF_PACKET, in a burst (count, interval) and then as a periodic refresh,
// because switches throttle bursts and caches go stale after recovery.
import { sockaddrLl } from './sockaddr.ts';
import { mapOsError } from './errors.ts';
import { K, shim } from './shim.ts';
import { ifIndex } from './vrrp-socket.ts';

export interface AnnounceSchedule {
  /** frames in the first burst (>= 1) */
  count: number;
  /** gap between burst frames, ms */
  intervalMs: number;
  /** then re-announce every refreshMs (0: never) */
  refreshMs?: number;
  /** frames per refresh (default 1) */
  refreshCount?: number;
  /** wait this long before the burst (default 0: at once) */
  startMs?: number;
}

export interface Announcement {
  /** frames sent so far (each frame of the set counts once) */
  readonly sent: number;
  stop(): void;
}

export class Announcer {
  readonly ifname: string;
  readonly ifindex: number;
  readonly fd: number;
  private readonly addrs = new Map<number, Uint8Array>();
  private readonly active = new Set<{ stop(): void }>();
  private closed = false;

  constructor(ifname: string) {
    this.ifname = ifname;
    this.ifindex = ifIndex(ifname);
    const s = shim();
    try {
      // Protocol 0: a send-only packet socket, so the kernel queues nothing to it.
      this.fd = s.socket(K('AF_PACKET'), K('SOCK_RAW'), 0);
    } catch (e) {
      throw mapOsError(e, `opening a packet socket on ${ifname}`, 'CAP_NET_RAW', ifname);
    }
  }

  /** Send one complete Ethernet frame now. Returns bytes sent, -1 if the queue is full. */
  sendFrame(frame: Uint8Array, off = 0, len = frame.length - off): number {
    if (len < 14) throw new RangeError('an Ethernet frame is at least 14 bytes');
    const ethertype = (frame[off + 12]! << 8) | frame[off + 13]!;
    let sa = this.addrs.get(ethertype);
    if (!sa) this.addrs.set(ethertype, (sa = sockaddrLl(this.ifindex, ethertype)));
    try {
      return shim().sendTo(this.fd, frame, off, len, sa);
    } catch (e) {
      throw mapOsError(e, `sending a frame on ${this.ifname}`, 'CAP_NET_RAW', this.ifname);
    }
  }

  /**
   * Send `frames` (GARP per IPv4 VIP, NA per IPv6 VIP) `count` times `intervalMs` apart,
   * then every `refreshMs`. The frames are copied: the caller's buffer may change after.
   */
  announce(frames: readonly Uint8Array[], sched: AnnounceSchedule): Announcement {
    if (sched.count < 1 || sched.intervalMs < 0) throw new RangeError('count >= 1 and intervalMs >= 0');
    const own = frames.map((f) => f.slice());
    let timer: NodeJS.Timeout | undefined;
    let sent = 0;
    let left = sched.count;
    const handle = {
      get sent() { return sent; },
      stop: () => {
        clearTimeout(timer);
        this.active.delete(handle);
      },
    };
    const fire = () => {
      for (const f of own) if (this.sendFrame(f) > 0) sent++;
      if (--left > 0) timer = setTimeout(fire, sched.intervalMs);
      else if (sched.refreshMs) {
        left = sched.refreshCount ?? 1;
        timer = setTimeout(fire, sched.refreshMs);
      } else this.active.delete(handle);
    };
    this.active.add(handle);
    if (sched.startMs && sched.startMs > 0) timer = setTimeout(fire, sched.startMs);
    else fire();
    return handle;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const a of [...this.active]) a.stop();
    shim().close(this.fd);
  }
}

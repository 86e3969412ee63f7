// The VRRP virtual MAC (RFC 5798 7.3: 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID}
// for IPv6) as a macvlan on the parent interface, with the sysctls keepalived sets
// (vrrp_if_config.c): on the VMAC arp_ignore=1, accept_local=1, rp_filter=0,
// promote_secondaries=1; on the parent arp_ignore=1 and arp_filter=1 so the parent does not
// answer ARP for the VIPs (restored when its last VMAC goes). For IPv6 the VMAC gets no
// EUI-64 link-local (it would be identical on every router) but the parent's, as keepalived
// does. All or nothing: a failure part way removes the link and restores the parent.
// process.getBuiltinModule, not import: see host/core/addr.ts.
const { readFileSync, writeFileSync } = process.getBuiltinModule('node:fs');
import { formatMac } from './sockaddr.ts';
import type { Family } from '../core/addr.ts';
import { NetError, NetPermissionError, NoSourceAddressError } from './errors.ts';
import { Netlink, type MACVLAN_MODE } from './netlink.ts';

export interface VmacOptions {
  parent: string;
  vrid: number;
  family: Family;
  /** default vrrp.{vrid} / vrrp6.{vrid} (keepalived's names) */
  name?: string;
  mode?: keyof typeof MACVLAN_MODE;
}

export interface Vmac {
  readonly name: string;
  readonly index: number;
  readonly mac: string;
  readonly parent: string;
  readonly parentIndex: number;
  remove(): Promise<void>;
}

export function vmacAddress(vrid: number, family: Family): Uint8Array {
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new RangeError('VRID is 1..255');
  return Uint8Array.of(0x00, 0x00, 0x5e, 0x00, family === 4 ? 0x01 : 0x02, vrid);
}

const conf = (ifname: string, key: string) => `/proc/sys/net/ipv4/conf/${ifname}/${key}`;

function setSysctl(path: string, value: number): void {
  try {
    writeFileSync(path, `${value}\n`);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new NetPermissionError(`writing ${path}`, 'CAP_NET_ADMIN', { cause: e });
    throw new NetError(`writing ${path}: ${(e as Error).message}`, 'VIGIL_ENET_SYSCTL', { cause: e });
  }
}
const getSysctl = (path: string) => Number(readFileSync(path, 'utf8').trim());

/** Parent interfaces whose ARP settings we changed: how many VMACs, and the old values. */
const parents = new Map<string, { users: number; arpIgnore: number; arpFilter: number; arpAnnounce: number }>();

function holdParent(parent: string): void {
  const held = parents.get(parent);
  if (held) {
    held.users++;
    return;
  }
  const saved = {
    users: 1, arpIgnore: getSysctl(conf(parent, 'arp_ignore')), arpFilter: getSysctl(conf(parent, 'arp_filter')),
    arpAnnounce: getSysctl(conf(parent, 'arp_announce')),
  };
  setSysctl(conf(parent, 'arp_ignore'), 1);
  try {
    setSysctl(conf(parent, 'arp_filter'), 1);
    // Replies from the VIP leave through the parent (its connected route comes first); with
    // arp_announce=2 the parent's ARP requests carry its own address, not the VIP, so
    // neighbours never learn the VIP at the parent's MAC (seen here without it).
    setSysctl(conf(parent, 'arp_announce'), 2);
  } catch (e) {
    setSysctl(conf(parent, 'arp_ignore'), saved.arpIgnore);
    setSysctl(conf(parent, 'arp_filter'), saved.arpFilter);
    throw e;
  }
  parents.set(parent, saved);
}

function releaseParent(parent: string): void {
  const held = parents.get(parent);
  if (!held || --held.users > 0) return;
  parents.delete(parent);
  try {
    setSysctl(conf(parent, 'arp_ignore'), held.arpIgnore);
    setSysctl(conf(parent, 'arp_filter'), held.arpFilter);
    setSysctl(conf(parent, 'arp_announce'), held.arpAnnounce);
  } catch {
    /* the parent may be gone already */
  }
}

export async function createVmac(o: VmacOptions, shared?: Netlink): Promise<Vmac> {
  const nl = shared ?? new Netlink();
  const mac = vmacAddress(o.vrid, o.family);
  const name = o.name ?? `${o.family === 4 ? 'vrrp' : 'vrrp6'}.${o.vrid}`;
  if (name.length > 15) throw new NetError(`VMAC interface name ${JSON.stringify(name)} is longer than 15 bytes: choose a shorter vmac name`, 'VIGIL_ENET_IFNAME');
  let index = 0;
  let heldParent = false;
  try {
    const parent = await nl.getLink(o.parent);
    let linkLocal: string | undefined;
    if (o.family === 6) {
      const ll = (await nl.listAddresses(parent.index, 6)).find((a) => a.address.startsWith('fe80:'));
      if (!ll) throw new NoSourceAddressError(o.parent, 6);
      linkLocal = ll.address;
    }
    await nl.newMacvlan({ name, parentIndex: parent.index, mac, mode: o.mode ?? 'private' });
    index = (await nl.getLink(name)).index;
    // No EUI-64 link-local from the shared virtual MAC: it would be the same on every router.
    if (o.family === 6) await nl.setAddrGenModeNone(index);
    for (const [k, v] of [['arp_ignore', 1], ['accept_local', 1], ['rp_filter', 0], ['promote_secondaries', 1]] as const) {
      setSysctl(conf(name, k), v);
    }
    holdParent(o.parent);
    heldParent = true;
    if (linkLocal) await nl.addAddress({ index, address: linkLocal, prefixlen: 64, nodad: true, ifname: name });
    await nl.setLinkUp(index, true);
    const vmac: Vmac = {
      name,
      index,
      mac: formatMac(mac),
      parent: o.parent,
      parentIndex: parent.index,
      remove: async () => {
        const n = new Netlink();
        try {
          await n.deleteLink(index);
        } finally {
          n.close();
          releaseParent(o.parent);
        }
      },
    };
    return vmac;
  } catch (e) {
    if (index) await nl.deleteLink(index).catch(() => {});
    if (heldParent) releaseParent(o.parent);
    throw e;
  } finally {
    if (!shared) nl.close();
  }
}

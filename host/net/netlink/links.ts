// rtnetlink link requests (RTM_*LINK) and the link record they answer with.
import { formatMac, hostLittleEndian as LE } from '../sockaddr.ts';
import { NoSuchInterfaceError } from '../errors.ts';
import { K } from '../shim.ts';
import { IFF, IFLA, MACVLAN_MODE, NLM_F, OPERSTATES, RTM, NlBuilder, parseAttrs, readStr, readU32 } from './codec.ts';
import type { NetlinkSocket } from './socket.ts';

export interface LinkInfo {
  index: number;
  name: string;
  mac: string | undefined;
  flags: number;
  up: boolean;
  /** carrier: IFF_LOWER_UP */
  lowerUp: boolean;
  operstate: string;
  mtu: number | undefined;
  parentIndex: number | undefined;
  kind: string | undefined;
}

export function parseLink(data: Uint8Array): LinkInfo {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const a = parseAttrs(data, 16);
  const flags = dv.getUint32(8, LE);
  const info = a.get(IFLA.LINKINFO);
  const op = a.get(IFLA.OPERSTATE)?.[0] ?? 0;
  const mac = a.get(IFLA.ADDRESS);
  return {
    index: dv.getInt32(4, LE),
    name: readStr(a.get(IFLA.IFNAME)) ?? '',
    mac: mac && mac.length === 6 ? formatMac(mac) : undefined,
    flags,
    up: (flags & IFF.UP) !== 0,
    lowerUp: (flags & IFF.LOWER_UP) !== 0,
    operstate: OPERSTATES[op] ?? String(op),
    mtu: readU32(a.get(IFLA.MTU)),
    parentIndex: readU32(a.get(IFLA.LINK)),
    kind: info ? readStr(parseAttrs(info).get(IFLA.INFO_KIND)) : undefined,
  };
}

function ifinfomsg(b: NlBuilder, family: number, index: number, flags: number, change: number): void {
  b.u8(family).u8(0).u16(0).i32(index).u32(flags).u32(change);
}

export async function getLink(nl: NetlinkSocket, ifname: string | number): Promise<LinkInfo> {
  const b = new NlBuilder(RTM.GETLINK, NLM_F.ACK);
  ifinfomsg(b, 0, typeof ifname === 'number' ? ifname : 0, 0, 0);
  if (typeof ifname === 'string') b.attrStr(IFLA.IFNAME, ifname);
  const [m] = await nl.request(b, `looking up interface ${ifname}`, String(ifname));
  if (!m) throw new NoSuchInterfaceError(String(ifname));
  return parseLink(m.data);
}

export async function listLinks(nl: NetlinkSocket): Promise<LinkInfo[]> {
  const b = new NlBuilder(RTM.GETLINK, NLM_F.DUMP);
  ifinfomsg(b, 0, 0, 0, 0);
  return (await nl.request(b, 'listing links')).filter((m) => m.type === RTM.NEWLINK).map((m) => parseLink(m.data));
}

export async function setLinkUp(nl: NetlinkSocket, index: number, up: boolean): Promise<void> {
  const b = new NlBuilder(RTM.NEWLINK, NLM_F.ACK);
  ifinfomsg(b, 0, index, up ? IFF.UP : 0, IFF.UP);
  await nl.request(b, `setting link ${index} ${up ? 'up' : 'down'}`, String(index));
}

/** A macvlan on `parentIndex` with a fixed MAC (the VRRP virtual MAC), left down. */
export async function newMacvlan(nl: NetlinkSocket, o: { name: string; parentIndex: number; mac: Uint8Array; mode: keyof typeof MACVLAN_MODE }): Promise<void> {
  const b = new NlBuilder(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL);
  ifinfomsg(b, 0, 0, 0, 0);
  b.attrStr(IFLA.IFNAME, o.name).attrU32(IFLA.LINK, o.parentIndex).attr(IFLA.ADDRESS, o.mac);
  const li = b.nest(IFLA.LINKINFO);
  b.attrStr(IFLA.INFO_KIND, 'macvlan');
  const data = b.nest(IFLA.INFO_DATA);
  b.attrU32(IFLA.MACVLAN_MODE, MACVLAN_MODE[o.mode]);
  b.end(data).end(li);
  await nl.request(b, `creating macvlan ${o.name}`, undefined);
}

/**
 * IPv6 address generation off (IN6_ADDR_GEN_MODE_NONE) on an existing, still down link:
 * the kernel refuses IFLA_AF_SPEC while creating one.
 */
export async function setAddrGenModeNone(nl: NetlinkSocket, index: number): Promise<void> {
  const b = new NlBuilder(RTM.NEWLINK, NLM_F.ACK);
  ifinfomsg(b, 0, index, 0, 0);
  const spec = b.nest(IFLA.AF_SPEC);
  const v6 = b.nest(K('AF_INET6'));
  b.attrU8(IFLA.INET6_ADDR_GEN_MODE, 1);
  b.end(v6).end(spec);
  await nl.request(b, `turning off IPv6 address generation on link ${index}`, String(index));
}

export async function deleteLink(nl: NetlinkSocket, index: number): Promise<void> {
  const b = new NlBuilder(RTM.DELLINK, NLM_F.ACK);
  ifinfomsg(b, 0, index, 0, 0);
  await nl.request(b, `deleting link ${index}`, String(index));
}

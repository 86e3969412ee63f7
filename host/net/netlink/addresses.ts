// rtnetlink address requests (RTM_*ADDR) and the address record they answer with.
import { hostLittleEndian as LE } from '../sockaddr.ts';
import { addressBytes, formatAddress, type Family } from '../../core/addr.ts';
import { K } from '../shim.ts';
import { AF, IFA, IFA_F, NLM_F, RTM, NlBuilder, parseAttrs, readStr, readU32 } from './codec.ts';
import type { NetlinkSocket, PreparedRequest } from './socket.ts';

export interface AddrInfo {
  family: Family;
  index: number;
  prefixlen: number;
  address: string;
  flags: number;
  scope: number;
  label: string | undefined;
  secondary: boolean;
  tentative: boolean;
}

export function parseAddr(data: Uint8Array): AddrInfo | undefined {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const family = data[0] === K('AF_INET') ? 4 : data[0] === K('AF_INET6') ? 6 : undefined;
  if (!family) return undefined;
  const a = parseAttrs(data, 8);
  const addr = a.get(IFA.LOCAL) ?? a.get(IFA.ADDRESS);
  if (!addr) return undefined;
  const flags = readU32(a.get(IFA.FLAGS)) ?? data[2]!;
  return {
    family,
    index: dv.getUint32(4, LE),
    prefixlen: data[1]!,
    address: formatAddress(addr, family),
    flags,
    scope: data[3]!,
    label: readStr(a.get(IFA.LABEL)),
    secondary: (flags & IFA_F.SECONDARY) !== 0,
    tentative: (flags & IFA_F.TENTATIVE) !== 0,
  };
}

export interface AddressSpec {
  index: number;
  address: string;
  prefixlen: number;
  /** IPv6: skip duplicate address detection (a VIP must answer at once). */
  nodad?: boolean;
  /** IPv4 label, e.g. "eth0:vip" (must start with the interface name). */
  label?: string;
  /** for error messages */
  ifname?: string;
}
export function addressRequest(op: 'add' | 'delete', a: AddressSpec): PreparedRequest {
  return op === 'add'
    ? { b: addrMessage(RTM.NEWADDR, a), what: `adding ${a.address}/${a.prefixlen} to link ${a.index}`, ifname: a.ifname }
    : { b: addrMessage(RTM.DELADDR, a), what: `deleting ${a.address}/${a.prefixlen} from link ${a.index}`, ifname: a.ifname };
}

function addrMessage(type: number, a: AddressSpec): NlBuilder {
  const bytes = addressBytes(a.address);   // throws AddressError on text that is no address
  const family: Family = bytes.length === 4 ? 4 : 6;
  const flags = type === RTM.NEWADDR ? NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL : NLM_F.ACK;
  const b = new NlBuilder(type, flags);
  const ifaFlags = family === 6 && a.nodad ? IFA_F.NODAD : 0;
  const scope = family === 6 && a.address.toLowerCase().startsWith('fe80') ? 253 : 0;
  b.u8(AF(family)).u8(a.prefixlen).u8(ifaFlags).u8(scope).u32(a.index);
  b.attr(IFA.LOCAL, bytes).attr(IFA.ADDRESS, bytes);
  if (ifaFlags) b.attrU32(IFA.FLAGS, ifaFlags);
  if (a.label && family === 4) b.attrStr(IFA.LABEL, a.label);
  return b;
}

export async function listAddresses(nl: NetlinkSocket, index?: number, family?: Family): Promise<AddrInfo[]> {
  const b = new NlBuilder(RTM.GETADDR, NLM_F.DUMP);
  b.u8(family ? AF(family) : 0).u8(0).u8(0).u8(0).u32(0);
  const out: AddrInfo[] = [];
  for (const m of await nl.request(b, 'listing addresses')) {
    if (m.type !== RTM.NEWADDR) continue;
    const a = parseAddr(m.data);
    if (a && (index === undefined || a.index === index) && (family === undefined || a.family === family)) out.push(a);
  }
  return out;
}

export async function addAddress(nl: NetlinkSocket, a: AddressSpec): Promise<void> {
  await nl.send(addressRequest('add', a));
}

export async function deleteAddress(nl: NetlinkSocket, a: AddressSpec): Promise<void> {
  await nl.send(addressRequest('delete', a));
}

/**
 * Add every address or none: on the first failure, the ones already added are removed
 * again before the error is thrown.
 */
export async function addAddresses(nl: NetlinkSocket, list: AddressSpec[]): Promise<void> {
  const done: AddressSpec[] = [];
  try {
    for (const a of list) {
      await addAddress(nl, a);
      done.push(a);
    }
  } catch (e) {
    for (const a of done.reverse()) await deleteAddress(nl, a).catch(() => {});
    throw e;
  }
}

// rtnetlink in TypeScript over the shim's generic socket ops. One concern a file, in netlink/:
// codec.ts (numbers, builder, parsers), socket.ts (requests and their acks), links.ts and
// addresses.ts (the requests vigil makes), monitor.ts (link and address events). This module is
// what the rest of vigil imports: Netlink is the request socket with those requests as methods.
import type { Family } from '../core/addr.ts';
import type { MACVLAN_MODE } from './netlink/codec.ts';
import { NetlinkSocket } from './netlink/socket.ts';
import * as links from './netlink/links.ts';
import * as addresses from './netlink/addresses.ts';
import type { AddressSpec, AddrInfo } from './netlink/addresses.ts';
import type { LinkInfo } from './netlink/links.ts';

export { MACVLAN_MODE, RTMGRP } from './netlink/codec.ts';
export { NetlinkSocket, type PreparedRequest } from './netlink/socket.ts';
export { addressRequest, type AddressSpec, type AddrInfo } from './netlink/addresses.ts';
export type { LinkInfo } from './netlink/links.ts';
export { NetlinkMonitor, type AddrEvent, type LinkEvent } from './netlink/monitor.ts';

export class Netlink extends NetlinkSocket {
  getLink(ifname: string | number): Promise<LinkInfo> { return links.getLink(this, ifname); }
  listLinks(): Promise<LinkInfo[]> { return links.listLinks(this); }
  setLinkUp(index: number, up: boolean): Promise<void> { return links.setLinkUp(this, index, up); }
  /** A macvlan on `parentIndex` with a fixed MAC (the VRRP virtual MAC), left down. */
  newMacvlan(o: { name: string; parentIndex: number; mac: Uint8Array; mode: keyof typeof MACVLAN_MODE }): Promise<void> {
    return links.newMacvlan(this, o);
  }
  setAddrGenModeNone(index: number): Promise<void> { return links.setAddrGenModeNone(this, index); }
  deleteLink(index: number): Promise<void> { return links.deleteLink(this, index); }

  listAddresses(index?: number, family?: Family): Promise<AddrInfo[]> { return addresses.listAddresses(this, index, family); }
  addAddress(a: AddressSpec): Promise<void> { return addresses.addAddress(this, a); }
  deleteAddress(a: AddressSpec): Promise<void> { return addresses.deleteAddress(this, a); }
  /** Every address or none: the ones added before a failure are removed again. */
  addAddresses(list: AddressSpec[]): Promise<void> { return addresses.addAddresses(this, list); }
}

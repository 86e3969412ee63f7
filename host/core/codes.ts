// Names for the core's numeric codes (core-wasm/assembly/codes.ts). Index = code.
// test/core/codes.test.ts checks that the lengths agree with what core.wasm reports.

export const STATES = ['init', 'backup', 'master', 'fault'] as const;
export type StateName = (typeof STATES)[number];
export const STATE = { init: 0, backup: 1, master: 2, fault: 3 } as const;

export const DROP_REASONS = [
  'none', 'truncated', 'ip_version', 'ip_header', 'ip_proto', 'ttl', 'version', 'type', 'family',
  'length', 'no_addresses', 'checksum', 'auth_ah', 'auth_unknown', 'vrid_unknown',
  'version_mismatch', 'auth_mismatch', 'auth_fail', 'interval_mismatch', 'own_packet',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

// What each drop means, for humans (the CLI, logs, status).
export const DROP_TEXT: Record<DropReason, string> = {
  none: 'valid',
  truncated: 'shorter than the fixed header',
  ip_version: 'not an IPv4 or IPv6 packet',
  ip_header: 'bad IP header (length, header checksum or fragment)',
  ip_proto: 'IP protocol / next header is not 112 (VRRP)',
  ttl: 'TTL / hop limit is not 255 (RFC 5798 §7.1)',
  version: 'VRRP version is neither 2 nor 3',
  type: 'VRRP type is not ADVERTISEMENT (1)',
  family: 'VRRPv2 over IPv6',
  length: 'shorter than its address count requires',
  no_addresses: 'address count is 0',
  checksum: 'bad VRRP checksum',
  auth_ah: 'VRRPv2 auth type 2 (IP AH) is not supported',
  auth_unknown: 'unknown VRRPv2 auth type',
  vrid_unknown: 'no instance for this VRID on this interface',
  version_mismatch: 'VRRP version differs from the instance',
  auth_mismatch: 'auth type differs from the instance',
  auth_fail: 'wrong password',
  interval_mismatch: 'advert interval differs from the instance (v2)',
  own_packet: 'our own advert',
};

export const REASONS = [
  'none', 'startup_owner', 'startup', 'master_down', 'higher_priority', 'shutdown', 'fault',
  'fault_cleared', 'sync_group', 'priority_change',
] as const;
export type ReasonName = (typeof REASONS)[number];

export const REASON_TEXT: Record<ReasonName, string> = {
  none: '',
  startup_owner: 'started as address owner (priority 255)',
  startup: 'started',
  master_down: 'Master_Down_Timer expired',
  higher_priority: 'advert with higher priority (or equal priority, higher address)',
  shutdown: 'shut down',
  fault: 'a tracked object failed',
  fault_cleared: 'tracked objects recovered',
  sync_group: 'sync group member moved',
  priority_change: 'priority changed',
};

export const ACTION = { none: 0, transition: 1, send: 2, vipsAdd: 3, vipsDel: 4, announce: 5 } as const;

export const COUNTERS = [
  'advertsSent', 'advertsReceived', 'transitions', 'becameMaster', 'prio0Sent', 'prio0Received',
  'addressMismatch', 'drops',
] as const;
export type CounterName = (typeof COUNTERS)[number];

export const CFG_ERRORS = [
  'ok', 'no_slot', 'vrid', 'version', 'family', 'priority', 'interval', 'auth', 'count', 'running',
  'track', 'group',
] as const;

// Named network errors with stable codes (undici style: a root class and one subclass per
// kind). Every OS error from the shim is mapped here, so callers switch on `code`, never on
// message text.
import { VigilError } from '../errors.ts';

export interface OsError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
}

// Under vigil's root error, so the CLI prints any of them as one line with its code.
export class NetError extends VigilError {
  constructor(message: string, code = 'VIGIL_ENET', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The process lacks a capability. The message says which one and how to grant it. */
export class NetPermissionError extends NetError {
  readonly capability: string;
  constructor(what: string, capability: string, options?: { cause?: unknown }) {
    super(
      `${what} needs ${capability}: run as root, or grant it with ` +
        `\`setcap cap_net_raw,cap_net_admin,cap_sys_nice,cap_ipc_lock+ep <node binary>\` ` +
        `(systemd: AmbientCapabilities=${capability})`,
      'VIGIL_ENET_PERM',
      options,
    );
    this.name = 'NetPermissionError';
    this.capability = capability;
  }
}

export class NoSuchInterfaceError extends NetError {
  readonly ifname: string;
  constructor(ifname: string, options?: { cause?: unknown }) {
    super(`no such network interface: ${JSON.stringify(ifname)}`, 'VIGIL_ENET_NOIF', options);
    this.name = 'NoSuchInterfaceError';
    this.ifname = ifname;
  }
}

/**
 * The kernel refused a send on a socket that is open, so not for want of a capability (that
 * shows when the socket is opened): a firewall rule in the output path, most likely.
 */
export class SendRefusedError extends NetError {
  readonly errno: string;
  constructor(what: string, errno: string, options?: { cause?: unknown }) {
    super(`${what}: the kernel refused the send (${errno}): a firewall rule? ` +
      '(`nft list ruleset`, `iptables -S OUTPUT`)', 'VIGIL_ENET_SEND_REFUSED', options);
    this.name = 'SendRefusedError';
    this.errno = errno;
  }
}

/** The interface has no address usable as the VRRP source (IPv4 primary / IPv6 link-local). */
export class NoSourceAddressError extends NetError {
  constructor(ifname: string, family: 4 | 6) {
    super(
      `interface ${ifname} has no ${family === 4 ? 'IPv4 primary' : 'IPv6 link-local (non-tentative)'} address ` +
        `to send VRRP from`,
      'VIGIL_ENET_NOSRC',
    );
    this.name = 'NoSourceAddressError';
  }
}

/** A kernel refusal that is not about permissions or a missing interface. */
export class NetSysError extends NetError {
  readonly errno: string;
  readonly syscall: string;
  constructor(what: string, cause: OsError) {
    super(`${what}: ${cause.message}`, 'VIGIL_ENET_SYS', { cause });
    this.name = 'NetSysError';
    this.errno = cause.code ?? 'EUNKNOWN';
    this.syscall = cause.syscall ?? '';
  }
}

/** rtnetlink answered NLMSG_ERROR. `errno` is the kernel's name; `detail` its extended ack. */
export class NetlinkError extends NetError {
  readonly errno: string;
  readonly detail: string | undefined;
  constructor(what: string, errno: string, detail: string | undefined, code = 'VIGIL_ENET_NETLINK') {
    super(`${what}: ${errno}${detail ? ` (${detail})` : ''}`, code);
    this.name = 'NetlinkError';
    this.errno = errno;
    this.detail = detail;
  }
}

export class AddressExistsError extends NetlinkError {
  constructor(what: string, detail?: string) {
    super(what, 'EEXIST', detail, 'VIGIL_ENET_EXISTS');
    this.name = 'AddressExistsError';
  }
}

export class AddressNotFoundError extends NetlinkError {
  constructor(what: string, detail?: string) {
    super(what, 'EADDRNOTAVAIL', detail, 'VIGIL_ENET_NOADDR');
    this.name = 'AddressNotFoundError';
  }
}

export class NetTimeoutError extends NetError {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`, 'VIGIL_ENET_TIMEOUT');
    this.name = 'NetTimeoutError';
  }
}

export class ShimMissingError extends NetError {
  constructor(path: string, cause: unknown) {
    super(`the native shim is not built (${path}): run \`make native\``, 'VIGIL_ENET_NOSHIM', { cause });
    this.name = 'ShimMissingError';
  }
}

/** The capability an operation needs, for the EPERM message. */
export type Capability = 'CAP_NET_RAW' | 'CAP_NET_ADMIN' | 'CAP_SYS_NICE' | 'CAP_IPC_LOCK';

/**
 * Turn a shim error into a named one. `ifname` lets ENODEV name the interface.
 * Non-OS errors (type errors from a caller bug) pass through untouched.
 */
export function mapOsError(err: unknown, what: string, cap: Capability, ifname?: string): Error {
  const e = err as OsError;
  if (!(e instanceof Error) || typeof e.code !== 'string') return e as Error;
  switch (e.code) {
    case 'EPERM':
    case 'EACCES':
      return new NetPermissionError(what, cap, { cause: e });
    case 'ENODEV':
    case 'ENXIO':
      if (ifname !== undefined) return new NoSuchInterfaceError(ifname, { cause: e });
      break;
  }
  return new NetSysError(what, e);
}

/** A send's error: EPERM / EACCES on an open socket is a refusal (a firewall), not a capability. */
export function mapSendError(err: unknown, what: string, ifname?: string): Error {
  const e = err as OsError;
  if (e instanceof Error && (e.code === 'EPERM' || e.code === 'EACCES')) return new SendRefusedError(what, e.code, { cause: e });
  return mapOsError(err, what, 'CAP_NET_RAW', ifname);
}

// vigil decode: VRRP packets (IP header included) to JSON lines, one per packet.
import { readFileSync } from 'node:fs';
import { Core, type DecodedPacket } from '../core/core.ts';
import { InputError, UsageError } from '../errors.ts';
import { readPcap } from '../pcap.ts';
import { parse } from './args.ts';
import type { Command } from './command.ts';

const usage = `Usage: vigil decode [--pcap FILE] [HEX... | -]

Decodes VRRP v2/v3 packets and applies the receive checks of RFC 5798 §7.1 / RFC 3768 §7.1
that need no configuration (TTL 255, version, type, length, checksum, auth type).

Input, one of:
  HEX...        each argument is one IP packet (IPv4 or IPv6 header included) in hex;
                spaces, colons and tcpdump's "0x0000:" offsets are ignored
  -             read hex from stdin: one packet per line, or \`tcpdump -x\` output
  --pcap FILE   every IP packet of a pcap or pcapng capture (Ethernet, Linux cooked, raw IP)

Output: one JSON object per packet: version, type, vrid, priority, count, advertInterval
(centiseconds for v3, seconds for v2), auth (v2), addresses, source, destination, ttl,
checksum, checksumValid, valid, and drop (the reason) when not valid.

Exit status: 0 all packets valid, 1 any packet invalid, 2 unreadable input.

Examples:
  vigil decode 45c0002400000000ff701896c0000201e0000012313396...
  tcpdump -i eth0 -x -c 5 vrrp | vigil decode -
  vigil decode --pcap adverts.pcap`;

export function hexToBytes(text: string, what: string): Uint8Array {
  const clean = text.replace(/0x[0-9a-fA-F]+:/g, '').replace(/[\s:]/g, '');
  if (clean.length === 0) throw new InputError(`${what}: no hex digits`);
  if (!/^[0-9a-fA-F]*$/.test(clean)) {
    const bad = clean.match(/[^0-9a-fA-F]/)![0];
    throw new InputError(`${what}: ${JSON.stringify(bad)} is not a hex digit`);
  }
  if (clean.length % 2 !== 0) throw new InputError(`${what}: odd number of hex digits (${clean.length})`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

// Stdin: tcpdump -x output (offset lines, a packet starting at 0x0000) or one packet per line.
export function packetsFromText(text: string): Uint8Array[] {
  const lines = text.split(/\r?\n/);
  const offset = /^\s*0x([0-9a-fA-F]{4}):\s*(.*)$/;
  if (lines.some((l) => offset.test(l))) {
    const out: string[] = [];
    for (const l of lines) {
      const m = offset.exec(l);
      if (!m) continue;  // tcpdump's summary lines
      if (parseInt(m[1], 16) === 0) out.push('');
      if (out.length === 0) throw new InputError(`stdin: tcpdump output starts mid-packet at offset 0x${m[1]}`);
      out[out.length - 1] += m[2].replace(/\s{2,}.*$/, '');  // drop any ASCII column
    }
    return out.map((h, i) => hexToBytes(h, `stdin packet ${i + 1}`));
  }
  return lines
    .map((l, i) => [l.trim(), i + 1] as const)
    .filter(([l]) => l.length > 0 && !l.startsWith('#'))
    .map(([l, n]) => hexToBytes(l, `stdin line ${n}`));
}

export function toJson(d: DecodedPacket): Record<string, unknown> {
  const o: Record<string, unknown> = {
    valid: d.valid,
    version: d.version,
    type: d.type,
    vrid: d.vrid,
    priority: d.priority,
    count: d.count,
    advertInterval: d.advertInterval,
    advertIntervalUnit: d.advertIntervalUnit,
  };
  if (d.version === 2) o.auth = { type: d.authType, ...(d.authData !== undefined ? { data: d.authData } : {}) };
  Object.assign(o, {
    addresses: d.addresses,
    family: d.family === 6 ? 'ipv6' : 'ipv4',
    source: d.source,
    destination: d.destination,
    ttl: d.ttl,
    checksum: `0x${d.checksum.toString(16).padStart(4, '0')}`,
    checksumValid: d.checksumValid,
  });
  if (!d.valid) { o.drop = d.drop; o.dropText = d.dropText; }
  return o;
}

export const decode: Command = {
  name: 'decode',
  summary: 'decode VRRP packets (hex, stdin or a capture) to JSON',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { pcap: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 'decode');
    if (values.help) { io.stdout(usage); return 0; }
    let packets: { bytes: Uint8Array; frame?: number }[];
    if (values.pcap !== undefined) {
      if (positionals.length) throw new UsageError('give either --pcap FILE or hex packets, not both');
      let buf: Uint8Array;
      try { buf = readFileSync(values.pcap); } catch (err) {
        throw new InputError(`cannot read ${values.pcap}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      packets = readPcap(buf, values.pcap)
        .filter((p) => p.ip !== null)
        .map((p) => ({ bytes: p.ip!, frame: p.index }));
      if (packets.length === 0) throw new InputError(`${values.pcap}: no IP packets in the capture`);
    } else if (positionals.length === 1 && positionals[0] === '-') {
      packets = packetsFromText(await io.readStdin()).map((bytes) => ({ bytes }));
      if (packets.length === 0) throw new InputError('stdin: no packets');
    } else if (positionals.length > 0) {
      packets = positionals.map((h, i) => ({ bytes: hexToBytes(h, `argument ${i + 1}`) }));
    } else {
      throw new UsageError('nothing to decode: give hex packets, - for stdin, or --pcap FILE (see `vigil decode --help`)');
    }
    const core = new Core();
    let allValid = true;
    for (const p of packets) {
      const d = core.decodeIp(p.bytes);
      allValid &&= d.valid;
      io.stdout(JSON.stringify(p.frame !== undefined ? { frame: p.frame, ...toJson(d) } : toJson(d)));
    }
    return allValid ? 0 : 1;
  },
};

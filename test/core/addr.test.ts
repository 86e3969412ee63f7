// host/core/addr.ts's own isIPv4 / isIPv6 (why not node:net's: there) accept exactly what
// node:net's accept: a table of edge cases, then fast-check on valid addresses of every form and
// on strings made of the characters addresses are made of.
import t from 'tap';
import fc from 'fast-check';
import net from 'node:net';
import { addressBytes, familyOf, formatAddress, isIPv4, isIPv6, isLinkLocal6, parseAddress } from '../../host/core/addr.ts';

const CASES = [
  '', '0.0.0.0', '255.255.255.255', '256.0.0.1', '192.0.2.1', '192.0.2.01', '01.2.3.4', '1.2.3', '1.2.3.4.5',
  '1.2.3.4.', '.1.2.3.4', '1..2.3', '1234.1.1.1', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', '192.0.2.1/24',
  '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
  '1::2::3', ':::', ':1::', '1:', ':1', '2001:db8::', '2001:DB8::A', '2001:db8::12345', '2001:db8::g',
  '::ffff:192.0.2.1', '::192.0.2.1', '1:2:3:4:5:6:192.0.2.1', '1:2:3:4:5:6:7:192.0.2.1', '1:2:3:4:5::192.0.2.1',
  '1:2:3:4:5:6::192.0.2.1', '::192.0.2.1:1', '192.0.2.1::', '::ffff:192.0.2.01', '::ffff:256.0.0.1',
  'fe80::1%eth0', 'fe80::1%', 'fe80::1%eth0%1', 'fe80::1%a-b.c:d', 'fe80::1%e th0', '%eth0', '1.2.3.4%eth0',
  '[::1]', '::1/128', '0:0:0:0:0:0:0:0', '0000:0000:0000:0000:0000:0000:0000:0000', '00000::',
];

t.test('the edge cases: as node:net', async (t) => {
  for (const c of CASES) {
    t.equal(isIPv4(c), net.isIPv4(c), `isIPv4(${JSON.stringify(c)})`);
    t.equal(isIPv6(c), net.isIPv6(c), `isIPv6(${JSON.stringify(c)})`);
  }
});

t.test('valid addresses of every form: as node:net, and they parse', async (t) => {
  fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), (a) => {
    if (isIPv4(a) !== net.isIPv4(a) || isIPv6(a) !== net.isIPv6(a)) return false;
    if (familyOf(a) !== 0) parseAddress(a);
    return true;
  }), { numRuns: 5000 });
  t.pass('5000 addresses');
});

t.test('strings of address characters: as node:net', async (t) => {
  const chars = fc.constantFrom(...'0123456789abcdefABCDEF:.%g-'.split(''), '::', '1.2.3.4', 'ffff', '255', '256', '01');
  fc.assert(fc.property(fc.array(chars, { maxLength: 24 }).map((a) => a.join('')), (s) =>
    isIPv4(s) === net.isIPv4(s) && isIPv6(s) === net.isIPv6(s)), { numRuns: 50_000 });
  t.pass('50,000 strings');
});

// The one address module: parse and format round-trip, the 4/16-byte view the kernel's structs
// take, and text that is no address refused with a code, never a bare TypeError.
t.test('parse, format, the kernel view, and the refusal', async (t) => {
  for (const [text, family] of [['192.0.2.1', 4], ['2001:db8::1', 6], ['fe80::1:2', 6], ['2001:db8::1:0:0:1', 6]] as const) {
    t.equal(familyOf(text), family, text);
    t.equal(formatAddress(parseAddress(text), family), text, `${text} round-trips`);
    t.equal(addressBytes(text).length, family === 4 ? 4 : 16, `${text}: ${family === 4 ? 4 : 16} bytes for the kernel`);
  }
  const slot = parseAddress('192.0.2.1', new Uint8Array(32).fill(9), 16);
  t.same([...slot.subarray(16)], [192, 0, 2, 1, ...Array(12).fill(0)], 'IPv4 in a 16-byte slot at an offset, zero after');
  t.equal(isLinkLocal6(parseAddress('fe80::1')), true);
  t.equal(isLinkLocal6(parseAddress('2001:db8::1')), false);
  t.equal(familyOf('www.example'), 0, 'familyOf tests, never throws');
  t.throws(() => parseAddress('192.0.2.300'), { code: 'VIGIL_EADDRESS', name: 'AddressError' });
});

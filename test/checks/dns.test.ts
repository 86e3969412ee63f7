// The DNS check's own query and response code (RFC 1035 §4), without a network.
import t from 'tap';
import { buildQuery, parseResponse } from '../../host/checks/dns.ts';

t.test('a query: header, name, type', async (t) => {
  const q = buildQuery(0x1234, 'svc.example', 'A');
  t.equal(q.toString('hex'), '1234' + '0100' + '0001' + '0000' + '0000' + '0000' + '03737663076578616d706c6500' + '0001' + '0001');
  t.equal(buildQuery(1, 'svc.example.', 'AAAA').readUInt16BE(q.length - 4), 28);
});

t.test('a response with a compressed name, a CNAME and two A records', async (t) => {
  const q = buildQuery(7, 'www.example', 'A');
  const head = Buffer.from(q);
  head.writeUInt16BE(0x8180, 2);
  head.writeUInt16BE(3, 6);
  const cname = Buffer.concat([Buffer.from('c00c000500010000003c0006', 'hex'), Buffer.from('03776562c010', 'hex')]);
  const a1 = Buffer.from('c02d00010001000000050004c6336405', 'hex');   // 198.51.100.5
  const a2 = Buffer.from('c02d00010001000000050004c6336406', 'hex');   // 198.51.100.6
  const r = parseResponse(Buffer.concat([head, cname, a1, a2]), 'A');
  t.strictSame(r, { id: 7, rcode: 0, addresses: ['198.51.100.5', '198.51.100.6'] });
  t.strictSame(parseResponse(Buffer.concat([head, cname, a1, a2]), 'AAAA').addresses, [], 'A records are not AAAA answers');
});

t.test('errors: NXDOMAIN code, truncation, not a response, short', async (t) => {
  const q = buildQuery(9, 'nope.example', 'A');
  const nx = Buffer.from(q); nx.writeUInt16BE(0x8183, 2);
  t.equal(parseResponse(nx, 'A').rcode, 3);
  const tc = Buffer.from(q); tc.writeUInt16BE(0x8380, 2);
  const format = (message: RegExp) => ({ code: 'VIGIL_ECHECK_DNS_FORMAT', name: 'CheckError', message });
  t.throws(() => parseResponse(tc, 'A'), format(/truncated response/));
  t.throws(() => parseResponse(q, 'A'), format(/not a response/));
  t.throws(() => parseResponse(Buffer.alloc(5), 'A'), format(/short/));
  const cut = Buffer.from(q); cut.writeUInt16BE(0x8180, 2); cut.writeUInt16BE(1, 6);
  t.throws(() => parseResponse(Buffer.concat([cut, Buffer.from('c00c0001', 'hex')]), 'A'), format(/truncated/));
});

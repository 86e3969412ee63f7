// TCP connect check (node:net), optionally reading a banner the server sends first and matching
// it against a regular expression (SMTP's "220 ...", SSH's "SSH-2.0-...").
import { connect } from 'node:net';
import type { CheckSpec } from '../config/types.ts';
import { CHECK_CODES as E, CheckError } from './errors.ts';

const BANNER_MAX = 4096;

export function tcpProbe(c: CheckSpec, signal: AbortSignal): Promise<void> {
  const banner = c.expect.banner === null ? null : new RegExp(c.expect.banner);
  return new Promise((resolve, reject) => {
    // No noDelay: nothing is written, and it is a setsockopt() per round.
    const sock = connect({ host: c.host, port: c.port });
    let got = '';
    let connected = false;
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      // A connection we close with a FIN leaves us a TIME_WAIT socket for 60 s: at 1,000
      // connects/s that is the whole ephemeral port range, and connect() then spends its time
      // searching for a free port (the checker at 90% of a core for 900 checks/s, 20,000
      // TIME_WAIT sockets). A reset leaves none.
      if (connected && !sock.destroyed) sock.resetAndDestroy(); else sock.destroy();
      if (err) reject(err); else resolve();
    };
    const onAbort = () => done(new CheckError(E.TIMEOUT, banner && got ? `timed out waiting for a banner matching /${c.expect.banner}/ (got ${JSON.stringify(got.slice(0, 80))})`
      : banner && sock.readyState === 'open' ? 'timed out waiting for the banner' : 'connect timed out'));
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err: NodeJS.ErrnoException) => done(new CheckError(E.CONNECT, `connect: ${err.code ?? err.message}`)));
    sock.on('connect', () => { connected = true; if (!banner) done(); });
    if (banner) {
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => {
        got += d;
        if (banner.test(got)) done();
        else if (got.length > BANNER_MAX) done(new CheckError(E.BANNER, `banner does not match /${c.expect.banner}/: ${JSON.stringify(got.slice(0, 80))}`));
      });
      sock.on('end', () => done(new CheckError(E.BANNER, got ? `banner does not match /${c.expect.banner}/: ${JSON.stringify(got.slice(0, 80))}` : 'closed without a banner')));
    }
  });
}

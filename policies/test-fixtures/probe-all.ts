// Calls each probe once, logs one line with the time it took, and fails with a summary:
//   http <status> body=<first 20 chars>[ error=<e>]; tcp ok banner=<first 20 chars> | tcp failed error=<e>;
//   dns rcode <n> [<addr>, ...][ error=<e>]; icmp ok <rtt>us | icmp err <e>
// Optional args: httpPort (0), path (/), tls (false), tcpPort (25), send (""), name (localhost), qtype (A).
import { Args, register, fail, http, tcp, dns, icmp, log, Level, nowUs } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

function check(target: string, args: Args): string | null {
  const httpPort = args.int("httpPort", 0, 0, 65535);
  const path = args.str("path", "/");
  const tls = args.bool("tls", false);
  const tcpPort = args.int("tcpPort", 25, 1, 65535);
  const send = args.str("send", "");
  const name = args.str("name", "localhost");
  const qtype = args.str("qtype", "A");
  if (args.error) return args.error;

  const t0 = nowUs();
  const h = http("GET", <u16>httpPort, path, tls);
  let s = `http ${h.status} body=${h.body.slice(0, 20)}` + (h.error.length ? ` error=${h.error}` : "");
  const t = tcp(<u16>tcpPort, send);
  s += t.connected ? `; tcp ok banner=${t.banner.slice(0, 20)}` : `; tcp failed error=${t.error}`;
  const d = dns(name, qtype);
  s += `; dns rcode ${d.rcode} [${d.addresses.join(", ")}]` + (d.error.length ? ` error=${d.error}` : "");
  const i = icmp();
  s += i.ok ? `; icmp ok ${i.rttUs}us` : `; icmp err ${i.error}`;
  log(Level.Info, `probe-all took ${nowUs() - t0}us`);
  return fail(s);
}

// Last: top-level code runs in order, and check may use the globals above.
register(check);

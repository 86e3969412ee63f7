// dns-answer: the target (a DNS server) answers a query for `name` with at least one of the
// expected addresses. args: name (required), expect (required: addresses, comma-separated;
// one of them must be in the answer), qtype ("A" or "AAAA"; "A").
import { Args, register, ok, fail, dns, canonicalIPv4, canonicalIPv6 } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

function check(target: string, args: Args): string | null {
  args.only(["name", "expect", "qtype"]);
  const name = args.str("name");
  const expected = args.list("expect");
  const qtype = args.str("qtype", "A").toUpperCase();
  if (args.error) return args.error;
  if (name.length == 0 || name.length > 253) return fail(`arg "name": "${name}" is not a DNS name`);
  if (qtype != "A" && qtype != "AAAA") return fail(`arg "qtype": "${qtype}" is not A or AAAA`);
  if (expected.length == 0) return fail(`arg "expect": no address given`);
  const v6 = qtype == "AAAA";
  const want: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = v6 ? canonicalIPv6(expected[i]) : canonicalIPv4(expected[i]);
    if (a === null) return fail(`arg "expect": "${expected[i]}" is not an ${v6 ? "IPv6" : "IPv4"} address`);
    want.push(a);
  }

  const r = dns(name, qtype);
  if (r.rcode < 0) return fail(`no answer: ${r.error}`);
  if (r.rcode != 0) return fail(`${name} ${qtype}: rcode ${r.rcode}` + (r.rcode < RCODES.length ? ` (${RCODES[r.rcode]})` : ""));
  if (r.addresses.length == 0) return fail(`no ${qtype} record for ${name}`);
  for (let i = 0; i < r.addresses.length; i++) {
    const a = v6 ? canonicalIPv6(r.addresses[i]) : canonicalIPv4(r.addresses[i]);
    if (a !== null && want.includes(a)) return ok();
  }
  return fail(`${name} ${qtype} is ${r.addresses.join(", ")}, expected ${want.join(" or ")}`);
}

register(check);

// http-budget: the target answers HTTP with an allowed status, within a latency budget.
// args: budgetMs (required), status ("200"; a comma list such as "200,204"), path ("/"),
//       port (0: the target's own), tls (false), method ("GET").
import { Args, register, ok, fail, http, ms } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

function check(target: string, args: Args): string | null {
  args.only(["budgetMs", "status", "path", "port", "tls", "method"]);
  const budgetMs = args.int("budgetMs", 0, 1, 3_600_000, true);
  const statusText = args.str("status", "200");
  const path = args.str("path", "/");
  const port = args.int("port", 0, 0, 65535);
  const tls = args.bool("tls", false);
  const method = args.str("method", "GET");
  if (args.error) return args.error;
  const allowed = statuses(statusText);
  if (allowed === null) return fail(`arg "status": "${statusText}" is not a list of HTTP statuses (100..599), e.g. "200,204"`);
  if (!path.startsWith("/")) return fail(`arg "path": "${path}" does not start with "/"`);
  if (!isToken(method)) return fail(`arg "method": "${method}" is not an HTTP method`);

  const r = http(method, <u16>port, path, tls);
  if (r.status == 0) return fail(`no response: ${r.error}`);
  if (!allowed.includes(r.status)) return fail(`status ${r.status}, expected ${allowed.join(" or ")}`);
  if (<u64>r.latencyUs > <u64>budgetMs * 1000) return fail(`latency ${ms(r.latencyUs)} over the ${budgetMs} ms budget`);
  return ok();
}

function statuses(text: string): i32[] | null {
  const items = text.split(",");
  const out: i32[] = [];
  for (let i = 0; i < items.length; i++) {
    const s = items[i].trim();
    if (s.length != 3) return null;
    const n = <i32>I32.parseInt(s, 10);
    if (n < 100 || n > 599 || n.toString() != s) return null;
    out.push(n);
  }
  return out;
}

// RFC 9110 token characters: a method the host can put on the request line as is.
function isToken(s: string): bool {
  if (s.length == 0 || s.length > 20) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum && !"!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))) return false;
  }
  return true;
}

register(check);

// tcp-banner: connect to the target, optionally send something, and the first thing the server
// says must start with a prefix (SMTP's "220", an FTP "220", SSH's "SSH-2.0-", ...).
// args: port (required), expect (required, the prefix), send ("": send nothing first).
import { Args, register, ok, fail, tcp, quote } from "../sdk";
export { evaluate, cabi_realloc } from "../sdk";

function check(target: string, args: Args): string | null {
  args.only(["port", "expect", "send"]);
  const port = args.int("port", 0, 1, 65535, true);
  const expect = args.str("expect");
  const send = args.str("send", "");
  if (args.error) return args.error;
  if (expect.length == 0) return fail(`arg "expect": must not be empty`);

  const r = tcp(<u16>port, send);
  if (!r.connected) return fail(`connect to port ${port} failed: ${r.error}`);
  if (r.banner.length == 0) return fail(`no banner on port ${port}` + (r.error.length ? `: ${r.error}` : ""));
  if (!r.banner.startsWith(expect)) return fail(`banner ${quote(r.banner)} does not start with ${quote(expect)}`);
  return ok();
}

register(check);

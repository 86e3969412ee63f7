// vigil import: a keepalived.conf into vigil YAML (host/import/).
import { UsageError } from '../errors.ts';
import { parse } from './args.ts';
import type { Command } from './command.ts';
const { writeFileSync, renameSync } = process.getBuiltinModule('node:fs');

const usage = `Usage: vigil import FILE [-o OUT] [--config-id ID]
       vigil import --explain

Reads a keepalived configuration (and the files it includes) and writes the vigil YAML that
does the same: instances, sync groups, vrrp_script / track_process / track_file as exec /
process / file checks, virtual servers with their real servers' checks. Each instance, check
and virtual server carries a comment naming the keepalived line it came from.

Every line vigil cannot express is listed on stderr (and at the top of the YAML) as
  FILE:LINE:COL: KEYWORD: not supported (why, or what to use instead)

  -o, --output OUT    write the YAML to OUT (default: stdout)
  --config-id ID      the id keepalived's @ID conditional lines are for (keepalived -i;
                      default: the host name without its domain, as keepalived's)
  --explain           print the mapping table: each keepalived keyword, its vigil key or why
                      it is not supported

Exit status: 0 everything was mapped; 3 some lines were left out (listed); 2 the file cannot
be read as keepalived config (a template's {{ }} or <PLACEHOLDER>, named at its line:col).

Examples:
  vigil import /etc/keepalived/keepalived.conf -o /etc/vigil/vigil.yaml
  vigil import keepalived.conf | vigil check -c /dev/stdin`;

export const importCommand: Command = {
  name: 'import',
  summary: 'turn a keepalived.conf into vigil YAML, listing what does not map',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      output: { type: 'string', short: 'o' }, 'config-id': { type: 'string' }, explain: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    }, 'import');
    if (values.help) { io.stdout(usage); return 0; }
    if (values.explain) {
      const { explain } = await import('../import/explain.ts');
      io.stdout(explain());
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `one keepalived file, not ${positionals.length}` : 'give the keepalived file to import, e.g. vigil import /etc/keepalived/keepalived.conf');
    const file = positionals[0];
    const { importKeepalived } = await import('../import/index.ts');
    let r;
    try {
      r = importKeepalived(file, { configId: values['config-id'] });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code) { io.stderr(`vigil import: cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'a directory' : e.message}`); return 2; }
      throw err;
    }
    if (r.template) {
      const t = r.template;
      io.stderr(`${t.file}:${t.line}:${t.col}: ${JSON.stringify(t.token)}: this is a template, not keepalived config: render it first (fill the placeholders), then import the result`);
      return 2;
    }
    for (const l of r.left) io.stderr(l);
    const { instances, virtualServers } = r.counts;
    if (!instances && !virtualServers) {
      io.stderr(`vigil import: ${file}: no instance or virtual server could be imported (see the lines above): no YAML written`);
      return 3;
    }
    // What vigil check would say of it (a VRID used twice on one interface, a root script others
    // can write): listed like the lines left out, and the exit is 3.
    let refused = 0;
    try {
      (await import('../config/load.ts')).parseConfig(r.yaml, values.output ?? 'imported.yaml');
    } catch (err) {
      const { ConfigError, formatProblem } = await import('../config/errors.ts');
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems) io.stderr(`${formatProblem(p)} (vigil check refuses this line of the imported YAML: fix it there)`);
      refused = err.problems.length;
    }
    if (values.output) {
      const tmp = `${values.output}.tmp-${process.pid}`;
      writeFileSync(tmp, r.yaml, { mode: 0o600 });
      renameSync(tmp, values.output);
    } else io.stdout(r.yaml.replace(/\n$/, ''));
    const c = r.counts;
    io.stderr(`vigil import: ${c.instances} instance(s), ${c.syncGroups} sync group(s), ${c.checks} check(s), ${c.virtualServers} virtual server(s)${r.left.length ? `; ${r.left.length} line(s) not supported, listed above` : refused ? '' : '; everything mapped'}`);
    if (refused) io.stderr(`vigil import: the YAML needs ${refused} fix(es) before vigil check takes it, listed above`);
    return r.left.length || refused ? 3 : 0;
  },
};

// The status page as one file: host/ui/main.ts bundled by rolldown for the browser (minified),
// inlined with page.css into index.html, under a Content-Security-Policy that allows exactly
// that script and that style (by hash) and fetches from the page's own origin. `make` runs it;
// the agent serves build/ui/index.html at GET / (dist/vigil carries it as the asset ui/index.html).
//
//   node host/ui/build.ts        (re)builds build/ui/index.html
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rolldown } from 'rolldown';

const ROOT = join(import.meta.dirname, '..', '..');
export const UI_PAGE = join(ROOT, 'build', 'ui', 'index.html');
const LIMIT = 100_000;   // the budget for the whole page

const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

export async function buildPage(): Promise<{ bytes: number; js: number; css: number; ms: number }> {
  const t0 = performance.now();
  const b = await rolldown({ input: join(import.meta.dirname, 'main.ts'), platform: 'browser', logLevel: 'warn' });
  const { output } = await b.generate({ format: 'iife', codeSplitting: false, sourcemap: false, minify: true });
  await b.close();
  if (output.length !== 1 || output[0].type !== 'chunk') throw new Error(`host/ui: expected one chunk, got ${output.length}`);
  const js = output[0].code.trim();
  // An HTML parser ends a script at "</script", whatever the JavaScript means by it.
  if (/<\/script/i.test(js)) throw new Error('host/ui: the bundle contains "</script": cannot be inlined');
  const css = readFileSync(join(import.meta.dirname, 'page.css'), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '').replace(/\s+/g, ' ').replace(/\s*([{};:,>])\s*/g, '$1').replace(/;}/g, '}').trim();
  const csp = [`default-src 'none'`, `script-src ${hash(js)}`, `style-src ${hash(css)}`, `connect-src 'self'`,
    `img-src data:`, `base-uri 'none'`, `form-action 'none'`].join('; ');
  const html = readFileSync(join(import.meta.dirname, 'index.html'), 'utf8')
    .replace('@CSP@', () => csp).replace('@CSS@', () => css).replace('@JS@', () => js);
  const bytes = Buffer.byteLength(html);
  if (bytes > LIMIT) throw new Error(`host/ui: the page is ${bytes} bytes, over its ${LIMIT}-byte budget`);
  mkdirSync(join(ROOT, 'build', 'ui'), { recursive: true });
  const tmp = `${UI_PAGE}.${process.pid}`;
  writeFileSync(tmp, html);
  renameSync(tmp, UI_PAGE);   // an agent reading it meanwhile sees the old page or the new, whole
  return { bytes, js: js.length, css: css.length, ms: performance.now() - t0 };
}

if (import.meta.main) {
  const r = await buildPage();
  console.log(`build/ui/index.html: ${(r.bytes / 1000).toFixed(1)} kB (script ${(r.js / 1000).toFixed(1)}, style ${(r.css / 1000).toFixed(1)}), in ${Math.round(r.ms)} ms`);
}

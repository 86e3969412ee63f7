// Headless Chromium (Debian's `chromium`) driven over the DevTools protocol, through
// --remote-debugging-pipe: the browser can run inside a test's network namespace (ip netns exec)
// and still be driven from here, with no port to reach across namespaces. A dozen commands of
// the protocol are all these tests use, so no client library: messages are JSON, each ended by
// a NUL, written to the browser's fd 3 and read from its fd 4.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = 'chromium';

interface Pending { resolve(v: unknown): void; reject(e: Error): void; method: string }

export class Browser {
  private child: ChildProcess;
  private out: Writable;
  private id = 0;
  private pending = new Map<number, Pending>();
  private buf = '';
  private profile: string;
  readonly stderr: string[] = [];
  private session = '';
  exited: Promise<void>;

  private constructor(ns: string | undefined, width: number, height: number) {
    this.profile = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe', `--user-data-dir=${this.profile}`,
      '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--mute-audio', '--hide-scrollbars', '--disable-dev-shm-usage',
      '--force-color-profile=srgb', `--window-size=${width},${height}`, 'about:blank'];
    const cmd = ns ? ['ip', ['netns', 'exec', ns, CHROMIUM, ...args]] as const : [CHROMIUM, args] as const;
    this.child = spawn(cmd[0], cmd[1], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    this.out = this.child.stdio[3] as Writable;
    const input = this.child.stdio[4] as Readable;
    input.setEncoding('utf8');
    input.on('data', (d: string) => this.onData(d));
    (this.child.stderr as Readable).setEncoding('utf8').on('data', (d: string) => { this.stderr.push(d); if (this.stderr.length > 200) this.stderr.shift(); });
    this.exited = new Promise((r) => this.child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited during ${p.method}: ${this.stderr.join('').slice(-2000)}`));
      this.pending.clear();
      r();
    }));
  }

  /** Starts Chromium (in namespace `ns` when given) with one page of width x height CSS pixels. */
  static async launch(ns: string | undefined, width = 1440, height = 900): Promise<Browser> {
    const b = new Browser(ns, width, height);
    const { targetInfos } = await b.send('Target.getTargets') as { targetInfos: { targetId: string; type: string }[] };
    const page = targetInfos.find((t) => t.type === 'page');
    const targetId = page ? page.targetId : (await b.send('Target.createTarget', { url: 'about:blank' }) as { targetId: string }).targetId;
    b.session = (await b.send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string }).sessionId;
    await b.page('Page.enable');
    await b.page('Runtime.enable');
    await b.page('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    return b;
  }

  private onData(d: string): void {
    this.buf += d;
    let i;
    while ((i = this.buf.indexOf('\0')) >= 0) {
      const msg = JSON.parse(this.buf.slice(0, i)) as { id?: number; result?: unknown; error?: { message: string } };
      this.buf = this.buf.slice(i + 1);
      if (msg.id === undefined) continue;   // events: unused
      const p = this.pending.get(msg.id);
      if (!p) continue;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result);
    }
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<unknown> {
    const id = ++this.id;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.out.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  }

  /** A command to the page's session. */
  page(method: string, params: object = {}): Promise<unknown> {
    return this.send(method, params, this.session);
  }

  async goto(url: string): Promise<void> {
    const r = await this.page('Page.navigate', { url }) as { errorText?: string };
    if (r.errorText) throw new Error(`navigate ${url}: ${r.errorText}`);
    await this.until('document.readyState === "complete"', 10_000, `${url} to load`);
  }

  /** The value of a JavaScript expression in the page (awaited, returned by value). */
  async eval<T>(expression: string): Promise<T> {
    const r = await this.page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }) as
      { result: { value?: T }; exceptionDetails?: { text: string; exception?: { description?: string } } };
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Polls `expression` in the page until it is truthy; returns the ms it took. */
  async until(expression: string, ms: number, what: string, stepMs = 10): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      if (await this.eval<boolean>(`!!(${expression})`)) return performance.now() - t0;
      if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }

  /** The whole page as PNG bytes (beyond the viewport, to its full height). */
  async screenshot(): Promise<Buffer> {
    const m = await this.page('Page.getLayoutMetrics') as { cssContentSize: { width: number; height: number } };
    const { width, height } = m.cssContentSize;
    const r = await this.page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: Math.ceil(width), height: Math.ceil(height), scale: 1 } }) as { data: string };
    return Buffer.from(r.data, 'base64');
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.send('Browser.close').catch(() => {});
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}

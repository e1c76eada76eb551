// The browser tests' harness: starts a real `govstore-server serve --demo` (with the DPG
// registry extract imported first) on a free loopback port with a fresh data directory,
// launches Debian's Chromium through playwright-core, and offers the keyboard, axe-core
// and screenshot helpers the tests share.
//
// Environment:
//   GOVSTORE_SERVER_BIN      the server binary; default ${CARGO_TARGET_DIR:-<repo>/target}/debug/govstore-server
//   GOVSTORE_BROWSER_BACKEND sqlite (default) or postgres (a fresh database, dropped at the end)
//   GOVSTORE_E2E_PG_URL      PostgreSQL server URL without database, default postgres://postgres@127.0.0.1:5432
//   GOVSTORE_DPG_FILE        the DPG extract; default <repo>/../shared/data/dpg/dpg-registry-2023.jsonl
//   CHROMIUM_BIN             default /usr/bin/chromium
//   GOVSTORE_BROWSER_DEMO_TIMEOUT  seconds to wait for the demo catalogue (default 180: debug builds are slow)

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..');
export const ARTIFACTS = path.join(HERE, 'artifacts');
export const AXE_PATH = require.resolve('axe-core/axe.min.js');
export const BACKEND = process.env.GOVSTORE_BROWSER_BACKEND || 'sqlite';
const DEMO_TIMEOUT_MS = Number(process.env.GOVSTORE_BROWSER_DEMO_TIMEOUT || '180') * 1000;
const PG_URL = (process.env.GOVSTORE_E2E_PG_URL || 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');

/** WCAG 2.0, 2.1 and 2.2 levels A and AA, as axe-core tags them. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export function serverBinary() {
  if (process.env.GOVSTORE_SERVER_BIN) return path.resolve(process.env.GOVSTORE_SERVER_BIN);
  const target = process.env.CARGO_TARGET_DIR || 'target';
  return path.resolve(REPO_ROOT, target, 'debug', 'govstore-server');
}

export function dpgFile() {
  return path.resolve(
    process.env.GOVSTORE_DPG_FILE || path.join(REPO_ROOT, '..', 'shared', 'data', 'dpg', 'dpg-registry-2023.jsonl'),
  );
}

export function chromiumBinary() {
  return process.env.CHROMIUM_BIN || '/usr/bin/chromium';
}

async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

function tail(file, lines = 80) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch (e) {
    return `<no ${path.basename(file)}: ${e.message}>`;
  }
}

function psql(sql) {
  const r = spawnSync('psql', [`${PG_URL}/postgres`, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error || r.status !== 0) {
    throw new Error(`psql at ${PG_URL} failed: ${r.error?.message || r.stderr}`);
  }
}

const env = () => ({ ...process.env, NO_COLOR: '1' });

/**
 * A running govstore-server with the demo catalogue and the DPG listings.
 * `importError` is null when `govstore-server import dpg` succeeded, otherwise the reason
 * (tests that need listings fail with it; the others run).
 */
export class Server {
  constructor() {
    this.proc = null;
    this.workdir = fs.mkdtempSync(path.join(os.tmpdir(), `govstore-browser-${BACKEND}-`));
    this.dataDir = path.join(this.workdir, 'data');
    this.database = null;
    this.importError = null;
    this.importOutput = '';
  }

  get storeArgs() {
    const args = ['--data-dir', this.dataDir];
    if (this.database) args.push('--database-url', `${PG_URL}/${this.database}`);
    return args;
  }

  log(lines = 80) {
    const out = tail(this.stdoutPath, lines);
    const err = tail(this.stderrPath, lines);
    return `--- server stdout ---\n${out}\n--- server stderr ---\n${err}`;
  }

  async start() {
    const bin = serverBinary();
    if (!fs.existsSync(bin)) {
      throw new Error(
        `govstore-server binary not found at ${bin}; build it with ` +
          '`cargo build -p govstore-server` or set GOVSTORE_SERVER_BIN',
      );
    }
    if (BACKEND === 'postgres') {
      this.database = `govstore_browser_${process.pid}_${Date.now().toString(36)}`;
      psql(`CREATE DATABASE "${this.database}"`);
    } else if (BACKEND !== 'sqlite') {
      throw new Error(`GOVSTORE_BROWSER_BACKEND must be sqlite or postgres, not ${JSON.stringify(BACKEND)}`);
    }
    fs.mkdirSync(this.dataDir, { recursive: true });

    // The listings go in before the server starts: it builds its search index at start.
    const file = dpgFile();
    if (!fs.existsSync(file)) {
      this.importError = `the DPG extract ${file} does not exist (set GOVSTORE_DPG_FILE)`;
    } else {
      const r = spawnSync(bin, ['import', 'dpg', file, ...this.storeArgs], {
        encoding: 'utf8',
        env: env(),
        timeout: 300_000,
      });
      this.importOutput = `${r.stdout}${r.stderr}`.trim();
      if (r.error || r.status !== 0) {
        this.importError =
          `\`govstore-server import dpg ${file}\` failed (status ${r.status}): ` +
          (r.error?.message || this.importOutput.split('\n').slice(-10).join('\n'));
      }
    }

    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.stdoutPath = path.join(this.workdir, 'server.out');
    this.stderrPath = path.join(this.workdir, 'server.log');
    const args = [
      'serve',
      '--listen',
      `127.0.0.1:${this.port}`,
      '--demo',
      '--demo-catalog',
      path.join(REPO_ROOT, 'catalog-examples'),
      ...this.storeArgs,
    ];
    const out = fs.openSync(this.stdoutPath, 'w');
    const err = fs.openSync(this.stderrPath, 'w');
    this.proc = spawn(bin, args, { stdio: ['ignore', out, err], env: env() });
    fs.closeSync(out);
    fs.closeSync(err);
    // Never leave a server behind, even when the test process is interrupted or dies.
    this.onExit = () => this.proc?.exitCode === null && this.proc.kill('SIGKILL');
    this.onSignal = (signal) => {
      this.onExit();
      this.removeData();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.on('exit', this.onExit);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
    await this.waitDemo(`${bin} ${args.join(' ')}`);
  }

  async waitDemo(command) {
    const deadline = Date.now() + DEMO_TIMEOUT_MS;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(
          `govstore-server exited (${this.proc.exitCode ?? this.proc.signalCode}) before the demo was ready\n` +
            `command: ${command}\n${this.log()}`,
        );
      }
      if (fs.readFileSync(this.stdoutPath, 'utf8').includes('govstore demo on ')) {
        try {
          const r = await fetch(`${this.url}/v2/`);
          if (r.ok) return;
          last = `GET /v2/ answered ${r.status}`;
        } catch (e) {
          last = `GET /v2/ failed: ${e.message}`;
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(
      `govstore-server: the demo catalogue was not ready after ${DEMO_TIMEOUT_MS / 1000}s (${last})\n` +
        `command: ${command}\n${this.log()}`,
    );
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = once(this.proc, 'exit');
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (this.onExit) {
      process.off('exit', this.onExit);
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
    }
    this.removeData();
  }

  /** Drops the PostgreSQL database and removes the data directory. */
  removeData() {
    if (this.database) {
      try {
        psql(`DROP DATABASE IF EXISTS "${this.database}" WITH (FORCE)`);
      } catch (e) {
        console.warn(`warning: could not drop database ${this.database}: ${e.message}`);
      }
      this.database = null;
    }
    fs.rmSync(this.workdir, { recursive: true, force: true, maxRetries: 3 });
  }
}

export async function launchBrowser() {
  const exe = chromiumBinary();
  if (!fs.existsSync(exe)) {
    throw new Error(`Chromium not found at ${exe}; install it with \`apt-get install chromium\` or set CHROMIUM_BIN`);
  }
  return chromium.launch({
    executablePath: exe,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

// ---------------------------------------------------------------------------------------
// Keyboard

/** What has the focus, described for assertions and error messages. */
export async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body', desc: '<body>' };
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ');
    const attrs = ['id', 'class', 'name', 'type', 'href', 'value', 'formaction']
      .filter((a) => el.hasAttribute(a))
      .map((a) => `${a}="${el.getAttribute(a)}"`)
      .join(' ');
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      href: el.getAttribute('href'),
      text,
      desc: `<${el.tagName.toLowerCase()} ${attrs}>${text.slice(0, 60)}`,
    };
  });
}

/**
 * Presses Tab (or Shift+Tab) until the focused element matches `selector` (and, if given,
 * its text matches `text`), at most `max` times. Returns the focused element's description.
 * Fails listing the stops it went through.
 */
export async function tabTo(page, selector, { text = null, max = 80, back = false } = {}) {
  const visited = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const hit = await page.evaluate(
      ({ selector, text }) => {
        const el = document.activeElement;
        if (!el || !el.matches(selector)) return false;
        if (text === null) return true;
        const t = [el.innerText, el.value, el.getAttribute('aria-label'), el.title].join(' ').replace(/\s+/g, ' ');
        return new RegExp(text.source, text.flags).test(t);
      },
      { selector, text: text && { source: text.source, flags: text.flags } },
    );
    const f = await focused(page);
    if (hit) return f;
    visited.push(f.desc);
  }
  throw new Error(
    `no keyboard stop matching ${selector}${text ? ` with text ${text}` : ''} within ${max} ` +
      `${back ? 'Shift+Tab' : 'Tab'} presses on ${page.url()}; stops were:\n  ${visited.join('\n  ')}`,
  );
}

/** Presses `key` and waits for the navigation it starts (also a POST to the same URL). */
export async function pressAndWait(page, key = 'Enter') {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press(key)]);
  return response;
}

/** Every Tab stop of the page from the top, in order, until focus leaves the document. */
export async function allTabStops(page, max = 400) {
  const stops = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const style = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body || el === document.documentElement) return null;
      const cs = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return {
        outlineStyle: cs.outlineStyle,
        outlineWidth: parseFloat(cs.outlineWidth) || 0,
        boxShadow: cs.boxShadow,
        visible: r.width > 0 && r.height > 0,
      };
    });
    // Past the last stop focus goes to the browser (the body is active), or wraps around.
    if (style === null) return stops;
    const { desc } = await focused(page);
    if (stops.length > 1 && stops[0].desc === desc) return stops;
    stops.push({ desc, ...style });
  }
  throw new Error(`more than ${max} Tab stops on ${page.url()}, or focus never leaves the page`);
}

// ---------------------------------------------------------------------------------------
// axe-core and screenshots

/** Runs axe-core (WCAG 2.x A and AA) on the page; returns its violations. The page's
 * context must have `bypassCSP: true`: the pages allow only their own scripts. */
export async function axeViolations(page) {
  await page.addScriptTag({ path: AXE_PATH });
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    AXE_TAGS,
  );
  return result.violations;
}

export function describeViolations(url, violations) {
  const lines = [`${violations.length} axe-core violation(s) on ${url}:`];
  for (const v of violations) {
    lines.push(`- ${v.id} (${v.impact}): ${v.help} [${v.helpUrl}]`);
    for (const n of v.nodes.slice(0, 10)) {
      lines.push(`    ${JSON.stringify(n.target)} ${n.html.slice(0, 160)}`);
      if (n.failureSummary) lines.push(`      ${n.failureSummary.replace(/\n/g, ' | ')}`);
    }
    if (v.nodes.length > 10) lines.push(`    ... and ${v.nodes.length - 10} more nodes`);
  }
  return lines.join('\n');
}

export async function screenshot(page, name) {
  const dir = path.join(ARTIFACTS, BACKEND);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Runs `fn(page, context)` in a fresh context of `browser` at `baseURL` (own cookies).
 * On failure it keeps a screenshot `artifacts/<backend>/FAILED-<prefix><name>.png`, names it
 * and the last page in the error, and calls `onFail`. Fails if the page broke its own
 * Content-Security-Policy.
 */
export async function withPage(browser, baseURL, name, fn, { prefix = '', contextOptions = {}, onFail = () => {} } = {}) {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: 1280, height: 900 },
    ...contextOptions,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const cspErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(`${page.url()}: ${m.text()}`);
  });
  try {
    await fn(page, context);
    assert.deepEqual(cspErrors, [], 'the page broke its own Content-Security-Policy');
  } catch (e) {
    onFail();
    const shot = `FAILED-${prefix}${name}`;
    try {
      if (page.url() !== 'about:blank') await screenshot(page, shot);
    } catch {
      // the page may be gone; the error matters more than its picture
    }
    const where = `\n    (last page: ${page.url()}; screenshot artifacts/${BACKEND}/${shot}.png)`;
    if (e && typeof e === 'object') {
      e.message += where;
      if (typeof e.stack === 'string') e.stack += where;
    }
    throw e;
  } finally {
    await context.close();
  }
}

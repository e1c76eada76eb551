// A country's bundle pages in headless Chromium, by keyboard only, against the demo
// bundle SL/national-id@2026.1 (`demo_bundle` in server/src/demo.rs: mosip/esignet 1.8.0
// and x-road/security-server 7.8.0, signed by amara and kofi, SL's threshold 2): from
// the country page to the bundle page, its members, signatures, threshold and the
// commands that pin SL's keys and pull it, on to a member's package page; the diff page;
// the same with JavaScript off and in French; axe-core (WCAG 2.2 A/AA) with zero
// violations on every page type, with screenshots.
//
// Run: node --test --test-concurrency=1 bundles.test.js (scripts/browser.sh does it).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  BACKEND,
  Server,
  axeViolations,
  describeViolations,
  launchBrowser,
  pressAndWait,
  screenshot,
  tabTo,
  withPage as sharedWithPage,
} from './harness.js';

const TEST_TIMEOUT = 120_000;
const MAX_TABS = 300;
const BUNDLE = '/countries/SL/bundles/national-id';

let server;
let browser;
let anyFailed = false;

/** Runs `fn(page)` in a fresh browser context; keeps a screenshot on failure and fails
 * if the page broke its Content-Security-Policy. */
async function withPage(name, fn, contextOptions = {}) {
  return sharedWithPage(browser, server.url, name, fn, {
    prefix: 'bundles-',
    contextOptions: { ...contextOptions },
    onFail: () => {
      anyFailed = true;
    },
  });
}

/** The texts a flow looks for, per language. */
const TEXT = {
  en: {
    lang: 'en',
    bundles: /Bundles/,
    heading: /Bundle SL\/national-id@2026\.1/,
    met: /Threshold met/,
    count: /2 of 2 signatures/,
    approved: /Approved/,
    pull: /Pull this bundle/,
    diff: /Changes in SL\/national-id/,
  },
  fr: {
    lang: 'fr',
    bundles: /Lots/,
    heading: /Lot SL\/national-id@2026\.1/,
    met: /Seuil atteint/,
    count: /2 signatures sur 2/,
    approved: /Approuvé/,
    pull: /Récupérer ce lot/,
    diff: /Changements de SL\/national-id/,
  },
};

/** From the country page, by keyboard: the bundle's latest version, its contents, then a
 * member's package page. */
async function bundleFlow(page, t, lang) {
  const response = await page.goto(lang === 'fr' ? '/countries/SL?lang=fr' : '/countries/SL');
  assert.equal(response.status(), 200);
  assert.equal(await page.getAttribute('html', 'lang'), t.lang);
  assert.match(await page.innerText('#bundles'), t.bundles);
  await tabTo(page, `#bundles-table a[href="${BUNDLE}"]`, { max: MAX_TABS });
  await pressAndWait(page, 'Enter');
  assert.equal(new URL(page.url()).pathname, BUNDLE);
  assert.equal(await page.getAttribute('html', 'lang'), t.lang);
  assert.match(await page.innerText('h1'), t.heading);
  const threshold = await page.innerText('#threshold');
  assert.match(threshold, t.met);
  assert.match(threshold, t.count);
  const rows = await page.$$eval('#members-table tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ')));
  assert.equal(rows.length, 2, `members: ${JSON.stringify(rows)}`);
  assert.ok(rows.some((r) => r.includes('mosip/esignet 1.8.0') && t.approved.test(r)), JSON.stringify(rows));
  assert.ok(rows.some((r) => r.includes('x-road/security-server 7.8.0') && t.approved.test(r)), JSON.stringify(rows));
  const signers = await page.innerText('#signatures-table');
  assert.ok(signers.includes('amara') && signers.includes('kofi'), `signatures: ${signers}`);
  assert.match(await page.innerText('#pull'), t.pull);
  assert.equal(await page.innerText('#pull-command'), 'govstore pull SL/national-id@2026.1 --into DIR');
  assert.match(await page.innerText('#trust-command'), /^govstore trust add SL (--key sha256:[0-9a-f]{64} )+--threshold 2$/);
  await tabTo(page, '#members-table a[href="/packages/x-road/security-server?version=7.8.0"]', { max: MAX_TABS });
  await pressAndWait(page, 'Enter');
  assert.equal(new URL(page.url()).pathname, '/packages/x-road/security-server');
}

describe(`bundle pages in Chromium (${BACKEND})`, { timeout: 20 * 60_000 }, () => {
  before(
    async () => {
      server = new Server();
      await server.start();
      browser = await launchBrowser();
    },
    { timeout: 300_000 },
  );

  after(async () => {
    await browser?.close();
    if (anyFailed && server?.proc) console.log(`\n${server.log(60)}`);
    await server?.stop();
  });

  for (const [lang, options] of [
    ['en', {}],
    ['fr', { locale: 'fr-FR' }],
  ]) {
    for (const [js, extra] of [
      ['', {}],
      [' (JavaScript off)', { javaScriptEnabled: false }],
    ]) {
      test(`from the country page to the bundle and a member, by keyboard [${lang}]${js}`, { timeout: TEST_TIMEOUT }, () =>
        withPage(`bundle-${lang}${extra.javaScriptEnabled === false ? '-nojs' : ''}`, (page) => bundleFlow(page, TEXT[lang], lang), {
          ...options,
          ...extra,
        }));
    }
  }

  test('the diff form works by keyboard with JavaScript off', { timeout: TEST_TIMEOUT }, () =>
    withPage(
      'diff-nojs',
      async (page) => {
        const response = await page.goto(`${BUNDLE}/diff?from=2026.1&to=2026.1`);
        assert.equal(response.status(), 200);
        assert.match(await page.innerText('h1'), TEXT.en.diff);
        assert.ok(await page.$('#no-changes'), 'the same version twice: no changes');
        await tabTo(page, '#diff-form button[type="submit"]', { max: MAX_TABS });
        await pressAndWait(page, 'Enter');
        const url = new URL(page.url());
        assert.equal(url.pathname, `${BUNDLE}/diff`);
        assert.equal(url.searchParams.get('from'), '2026.1');
        assert.equal(url.searchParams.get('to'), '2026.1');
      },
      { javaScriptEnabled: false },
    ));

  test('an unknown bundle is a not-found page', { timeout: TEST_TIMEOUT }, () =>
    withPage('unknown', async (page) => {
      const response = await page.goto('/countries/SL/bundles/no-such-bundle/2026.1');
      assert.equal(response.status(), 404);
    }));

  // Every page type: axe-core with zero violations, and a screenshot.
  const PAGES = [
    { name: 'country-bundles', path: '/countries/SL' },
    { name: 'bundle', path: `${BUNDLE}/2026.1` },
    { name: 'bundle-fr', path: `${BUNDLE}/2026.1?lang=fr` },
    { name: 'bundle-diff', path: `${BUNDLE}/diff?from=2026.1&to=2026.1` },
    { name: 'bundle-diff-fr', path: `${BUNDLE}/diff?from=2026.1&to=2026.1&lang=fr` },
    { name: 'bundle-not-found', path: '/countries/SL/bundles/no-such-bundle', status: 404 },
  ];
  for (const p of PAGES) {
    test(`axe-core finds no WCAG 2.2 A/AA violation: ${p.name}`, { timeout: TEST_TIMEOUT }, () =>
      withPage(
        `axe-${p.name}`,
        async (page) => {
          const response = await page.goto(p.path);
          assert.equal(response.status(), p.status ?? 200);
          await screenshot(page, `bundles-${p.name}`);
          const violations = await axeViolations(page);
          assert.equal(violations.length, 0, describeViolations(page.url(), violations));
        },
        { bypassCSP: true },
      ));
  }
});

// The web catalogue in headless Chromium, by keyboard only: search, facets, a package,
// compare, the stack check, a DPG listing, the language switch, visible focus, the same
// flows with JavaScript off, and axe-core (WCAG 2.2 AA) on every page type, with a
// full-page screenshot of each in artifacts/. Pages follow the contract in the issue's
// page description (URLs, element ids, form field names).
//
// Run: node --test --test-concurrency=1 catalogue.test.js (scripts/browser.sh does it).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  BACKEND,
  REPO_ROOT,
  Server,
  allTabStops,
  axeViolations,
  describeViolations,
  focused,
  launchBrowser,
  pressAndWait,
  screenshot,
  tabTo,
  withPage as sharedWithPage,
} from './harness.js';

const example = (name) => fs.readFileSync(path.join(REPO_ROOT, 'catalog-examples', name), 'utf8');
const STACK_FITS = example('stack-xroad-mosip-kubernetes.toml');
const STACK_NO_COPYLEFT = example('stack-no-copyleft.toml');
const STACK_SUBMIT = '#stack-form button, #stack-form input[type="submit"]';
const STACK_CHECK = /check my stack|vérifier/i;
const TEST_TIMEOUT = 120_000;

let server;
let browser;
let anyFailed = false;

/** Runs `fn(page, context)` in a fresh browser context (own cookies); on failure keeps a
 * screenshot and adds the page's URL to the error. Fails if the page broke its own
 * Content-Security-Policy (an inline script or style would). */
async function withPage(name, fn, contextOptions = {}) {
  return sharedWithPage(browser, server.url, name, fn, {
    prefix: '',
    contextOptions: { acceptDownloads: true, ...contextOptions },
    onFail: () => {
      anyFailed = true;
    },
  });
}

/** The number in the results heading ("12 results"). */
async function resultCount(page) {
  const text = await page.evaluate(() =>
    [...document.querySelectorAll('main h1, main h2')].map((h) => h.innerText.replace(/\s+/g, ' ')).join(' | '),
  );
  const m = text.match(/(\d[\d,\u202f\u00a0 ]*)\s*(results?|résultats?)\b/i);
  assert.ok(m, `no result count ("N results") in the page's headings: ${JSON.stringify(text)}`);
  return Number(m[1].replace(/[^\d]/g, ''));
}

/** The result links in list order: [{href, text}]. */
async function resultLinks(page) {
  return page.$$eval('#results > li', (lis) =>
    lis.map((li) => {
      const a = li.querySelector('a.result-link');
      return {
        href: a?.getAttribute('href') ?? null,
        text: a?.innerText.trim() ?? null,
        item: li.innerText.replace(/\s+/g, ' '),
        checkbox: li.querySelector('input[type="checkbox"][name="p"]')?.value ?? null,
      };
    }),
  );
}

function requireListings() {
  if (server.importError) {
    assert.fail(`the DPG listings are not in the catalogue: ${server.importError}`);
  }
}

// ---------------------------------------------------------------------------------------
// Flows shared by the JavaScript-on and JavaScript-off runs

/** Header search: type a query, Enter, the expected package is the first result. */
async function searchFlow(page, query, expected) {
  await page.goto('/');
  await tabTo(page, '#site-q');
  await page.keyboard.type(query);
  await pressAndWait(page, 'Enter');
  const url = new URL(page.url());
  assert.equal(url.pathname, '/search');
  assert.equal(url.searchParams.get('q'), query);
  const links = await resultLinks(page);
  assert.ok(links.length > 0, `no results for ${query}`);
  const names = JSON.stringify(links.map((l) => l.text));
  assert.equal(links[0].text, expected, `first result for ${JSON.stringify(query)}; results: ${names}`);
  assert.equal(links[0].href, `/packages/${expected}`);
  assert.ok((await resultCount(page)) >= 1);
  // The header search keeps the query.
  assert.equal(await page.inputValue('#site-q'), query);
}

/** Facet: from browsing everything, Enter on the licence MPL-2.0 filter; every result has
 * that licence and the count matches the facet's; then remove the filter. */
async function facetFlow(page) {
  await page.goto('/search');
  const total = await resultCount(page);
  assert.ok(total >= 24, `browsing everything shows ${total} results; the demo catalogue alone has 24 packages`);
  const facet = await tabTo(page, '#facets a', { text: /\bMPL-2\.0\b/, max: 400 });
  const facetCount = await page.evaluate(() => {
    const el = document.activeElement;
    const scope = el.closest('li') || el;
    const m = scope.innerText.replace('MPL-2.0', '').match(/(\d[\d,]*)/);
    return m ? Number(m[1].replace(/,/g, '')) : null;
  });
  assert.ok(facetCount > 0, `the facet link ${facet.desc} shows no count`);
  await pressAndWait(page, 'Enter');
  assert.equal(new URL(page.url()).searchParams.get('license'), 'MPL-2.0', 'the facet link sets license=MPL-2.0');
  assert.equal(await resultCount(page), facetCount, 'the result count equals the count the facet showed');
  const links = await resultLinks(page);
  assert.ok(links.length > 0 && links.length <= facetCount);
  if (links.length < facetCount) {
    assert.ok(await page.$('a[rel~="next"]'), 'more results than shown but no rel=next link');
  }
  for (const l of links) assert.match(l.item, /MPL-2\.0/, `a result without licence MPL-2.0: ${l.item}`);
  assert.ok(
    links.some((l) => l.text === 'mosip/esignet'),
    `mosip/esignet (MPL-2.0) is not among the filtered results: ${JSON.stringify(links.map((l) => l.text))}`,
  );
  const current = await page.$$eval('#facets a[aria-current="true"]', (as) => as.map((a) => a.innerText));
  assert.ok(
    current.some((t) => t.includes('MPL-2.0')),
    `the active facet link has no aria-current="true" (active: ${JSON.stringify(current)})`,
  );
  // Remove the filter again, by keyboard.
  await page.goto(page.url()); // start the Tab order from the top
  await tabTo(page, 'main a', { text: /remove|retirer|supprimer/i, max: 400 });
  await pressAndWait(page, 'Enter');
  assert.equal(new URL(page.url()).searchParams.get('license'), null, 'the remove link drops license=');
  assert.equal(await resultCount(page), total, 'without the filter the count is back to everything');
}

/** Compare: tick two results' Compare boxes with Space, submit by Enter on the button. */
async function compareFlow(page) {
  await page.goto('/search?q=identity');
  await tabTo(page, '#compare-form input[type="checkbox"][name="p"]', { max: 400 });
  await page.keyboard.press('Space');
  const first = await page.evaluate(() => document.activeElement.value);
  await tabTo(page, '#compare-form input[type="checkbox"][name="p"]', { max: 40 });
  await page.keyboard.press('Space');
  const second = await page.evaluate(() => document.activeElement.value);
  const checked = await page.$$eval('#compare-form input[name="p"]:checked', (cs) => cs.map((c) => c.value));
  assert.deepEqual(checked, [first, second], 'Space ticks the focused Compare box');
  for (const id of await page.$$eval('#compare-form input[name="p"]', (cs) => cs.map((c) => c.id))) {
    assert.ok(id, 'every Compare box has an id');
    assert.ok(await page.$(`label[for="${id}"]`), `the Compare box #${id} has no <label for>`);
  }
  const submit = ['button[type="submit"]', 'button:not([type])', 'input[type="submit"]'].map((s) => `#compare-form ${s}`);
  await tabTo(page, submit.join(', '), { text: /compare|comparer/i, max: 400 });
  const response = await pressAndWait(page, 'Enter');
  assert.equal(response.status(), 200);
  const url = new URL(page.url());
  assert.equal(url.pathname, '/compare');
  assert.deepEqual(url.searchParams.getAll('p'), [first, second]);
  const cols = await page.$$eval('#compare th[scope="col"]', (ths) => ths.map((th) => th.innerText.trim()));
  const packageCols = cols.filter((c) => c.includes(first) || c.includes(second));
  assert.equal(packageCols.length, 2, `#compare has columns ${JSON.stringify(cols)}; want one per package`);
  assert.ok(packageCols[0].includes(first) && packageCols[1].includes(second), `columns in the order chosen: ${cols}`);
  const rows = await page.$$eval('#compare th[scope="row"]', (ths) =>
    ths.map((th) => th.innerText.trim().toLowerCase()),
  );
  for (const want of [/version/, /licen[cs]e/, /maturit/, /spec/, /sign/, /download|téléchar/]) {
    assert.ok(rows.some((r) => want.test(r)), `#compare has no row matching ${want}; rows: ${JSON.stringify(rows)}`);
  }
  // Every row has one cell per package.
  const widths = await page.$$eval('#compare tr:has(th[scope="row"])', (trs) =>
    trs.map((tr) => tr.querySelectorAll('td').length),
  );
  assert.ok(widths.length >= 6 && widths.every((w) => w === 2), `cells per row: ${JSON.stringify(widths)}`);
}

/** The stack check: paste a stack that resolves, then one that does not, download both. */
async function stackFlow(page) {
  await page.goto('/stack-check');
  await tabTo(page, '#stack-text');
  await page.keyboard.insertText(STACK_FITS);
  await tabTo(page, STACK_SUBMIT, { text: STACK_CHECK });
  let response = await pressAndWait(page, 'Enter');
  assert.equal(response.status(), 200);
  assert.equal(response.request().method(), 'POST');
  assert.equal((await page.inputValue('#stack-text')).trim(), STACK_FITS.trim(), 'the form shows the stack again');
  assert.ok(await page.$('#result'), 'no #result section after checking a stack');
  const fits = await page.$$eval('#result #fits tr:has(td)', (trs) =>
    trs.map((tr) => tr.innerText.replace(/\s+/g, ' ')),
  );
  assert.ok(fits.length >= 2, `#fits has ${fits.length} rows: ${JSON.stringify(fits)}`);
  assert.ok(fits.some((r) => r.includes('mosip/esignet')), `mosip/esignet is not in #fits: ${JSON.stringify(fits)}`);
  assert.ok(
    fits.some((r) => r.includes('x-road/security-server') && r.includes('7.8.0')),
    `the stack's X-Road 7.5 must be upgraded to 7.8.0 (Information Mediator ^1.1): ${JSON.stringify(fits)}`,
  );
  assert.ok(await page.$('#result #not-fitting'), 'no #not-fitting list of the candidates not chosen');
  assert.equal(await page.$('#result #report'), null, 'a stack that resolves shows no #report');

  // The lockfile download: the second submit button of the same form.
  await tabTo(page, '#stack-form [formaction="/stack-check/download"]', { max: 40 });
  let [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  assert.equal(download.suggestedFilename(), 'govstore.lock');
  const lock = fs.readFileSync(await download.path(), 'utf8');
  assert.match(lock, /^# Written by govstore/, 'the lockfile starts as `govstore resolve` writes it');
  assert.match(lock, /^version = 1$/m);
  assert.match(lock, /^stack = "sha256:[0-9a-f]{64}"$/m);
  assert.match(lock, /^\[\[package\]\]\nname = "mosip\/esignet"\nversion = "1\.8\.0"\ndigest = "sha256:[0-9a-f]{64}"/m);

  // Replace the text with a stack nothing fits: the resolver's report, as an alert.
  await page.goto('/stack-check');
  await tabTo(page, '#stack-text');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(STACK_NO_COPYLEFT);
  await tabTo(page, STACK_SUBMIT, { text: STACK_CHECK });
  response = await pressAndWait(page, 'Enter');
  assert.equal(response.status(), 200);
  const report = await page.$('#result #report[role="alert"]');
  assert.ok(report, 'no #report[role="alert"] for a stack nothing fits');
  const text = await report.innerText();
  assert.match(text, /govstack\/identity/, `the report names the unmet spec: ${text}`);
  assert.match(text, /MPL-2\.0/, `the report names the licence that excluded the candidates: ${text}`);
  assert.equal(await page.$('#result #fits'), null, 'an unresolvable stack shows no #fits table');
  await tabTo(page, '#stack-form [formaction="/stack-check/download"]', { max: 40 });
  [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  const body = fs.readFileSync(await download.path(), 'utf8');
  assert.match(body, /govstack\/identity/, `the downloaded report: ${body.slice(0, 300)}`);
  assert.doesNotMatch(body, /<html/i, 'the downloaded report is plain text');
}

// ---------------------------------------------------------------------------------------

describe(`web catalogue in Chromium (${BACKEND})`, { timeout: 15 * 60_000 }, () => {
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
    if (server?.importError) console.log(`\nDPG import: ${server.importError}`);
    await server?.stop();
  });

  test('the skip link is the first Tab stop and moves focus to main', { timeout: TEST_TIMEOUT }, () =>
    withPage('skip-link', async (page) => {
      await page.goto('/');
      await page.keyboard.press('Tab');
      const first = await focused(page);
      assert.equal(first.href, '#main', `first Tab stop is ${first.desc}`);
      assert.ok(await page.evaluate(() => document.activeElement.matches('a.skip-link')));
      assert.match(first.text, /skip to content/i);
      const box = await page.evaluate(() => {
        const r = document.activeElement.getBoundingClientRect();
        return { w: r.width, h: r.height, top: r.top, left: r.left };
      });
      const onScreen = box.w > 1 && box.h > 1 && box.top >= 0 && box.left >= 0;
      assert.ok(onScreen, `the focused skip link is not on screen: ${JSON.stringify(box)}`);
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement?.id === 'main');
      assert.ok(await page.evaluate(() => document.activeElement.matches('main#main[tabindex="-1"]')));
      // The next Tab stop is inside main, past the header.
      await page.keyboard.press('Tab');
      assert.ok(
        await page.evaluate(() => document.querySelector('main').contains(document.activeElement)),
        `after the skip link, Tab went to ${(await focused(page)).desc}`,
      );
    }));

  test('search from the header and from the home page', { timeout: TEST_TIMEOUT }, () =>
    withPage('search', async (page) => {
      await searchFlow(page, 'esignet', 'mosip/esignet');
      await page.goto('/');
      await tabTo(page, '#home-q');
      assert.ok(await page.$('label[for="home-q"]'), 'the home search field has a label');
      await page.keyboard.type('keycloak');
      await pressAndWait(page, 'Enter');
      assert.equal(new URL(page.url()).pathname, '/search');
      assert.equal((await resultLinks(page))[0]?.text, 'keycloak/keycloak');
    }));

  test('a building block on the home page leads to its packages', { timeout: TEST_TIMEOUT }, () =>
    withPage('building-block', async (page) => {
      await page.goto('/');
      const block = '#building-blocks a[href^="/search?spec="][href*="identity"]';
      await tabTo(page, block, { max: 200 });
      const shown = await page.evaluate(() => {
        const li = document.activeElement.closest('li') || document.activeElement.parentElement;
        const m = li.innerText.match(/(\d+)\s+(packages?|paquets?)/i);
        return m ? Number(m[1]) : null;
      });
      assert.ok(shown > 0, 'the building block shows no package count');
      await pressAndWait(page, 'Enter');
      assert.equal(new URL(page.url()).searchParams.get('spec'), 'govstack/identity');
      assert.equal(await resultCount(page), shown, 'the search finds as many packages as the home page said');
      const names = (await resultLinks(page)).map((l) => l.text);
      assert.ok(names.includes('mosip/esignet'), `govstack/identity results: ${JSON.stringify(names)}`);
      await page.goto('/');
      await tabTo(page, '#recent a[href^="/packages/"]', { max: 200 });
      await pressAndWait(page, 'Enter');
      assert.match(new URL(page.url()).pathname, /^\/packages\/[^/]+\/[^/]+$/);
    }));

  test('page through the results with rel=next and rel=prev links', { timeout: TEST_TIMEOUT }, () =>
    withPage('pagination', async (page) => {
      await page.goto('/search');
      const total = await resultCount(page);
      const firstPage = (await resultLinks(page)).map((l) => l.text);
      assert.ok(firstPage.length < total, `browsing ${total} results shows ${firstPage.length} on one page`);
      await tabTo(page, 'a[rel~="next"]', { max: 600 });
      await pressAndWait(page, 'Enter');
      assert.equal(new URL(page.url()).searchParams.get('page'), '2');
      const secondPage = (await resultLinks(page)).map((l) => l.text);
      assert.ok(secondPage.length > 0, 'page 2 is empty');
      assert.deepEqual(secondPage.filter((n) => firstPage.includes(n)), [], 'page 2 repeats results of page 1');
      assert.equal(await resultCount(page), total, 'page 2 shows the same total');
      await tabTo(page, 'a[rel~="prev"]', { max: 600 });
      await pressAndWait(page, 'Enter');
      assert.deepEqual((await resultLinks(page)).map((l) => l.text), firstPage, 'rel=prev leads back to page 1');
    }));

  test('filter by a facet and remove the filter', { timeout: TEST_TIMEOUT }, () => withPage('facet', facetFlow));

  test('open a package from the results', { timeout: TEST_TIMEOUT }, () =>
    withPage('package', async (page) => {
      await page.goto('/search?q=esignet');
      const hit = await tabTo(page, 'a.result-link', { max: 400 });
      assert.ok(
        await page.evaluate(() => document.activeElement === document.querySelector('#results > li a.result-link')),
        `the first result link reached by Tab is not the first result: ${hit.desc}`,
      );
      await pressAndWait(page, 'Enter');
      assert.equal(new URL(page.url()).pathname, '/packages/mosip/esignet');
      assert.match(await page.innerText('h1'), /esignet/);
      const sections = ['install', 'signature', 'readme', 'versions', 'specs', 'requirements', 'dependents', 'downloads'];
      for (const id of sections) {
        assert.ok(await page.$(`main #${id}`), `the package page has no #${id} section`);
      }
      assert.match(await page.innerText('#install code'), /mosip\/esignet/);
      const signature = await page.innerText('#signature');
      assert.match(signature, /sha256:[0-9a-f]{12,}/, `#signature shows no key id: ${signature}`);
      assert.match(signature, /mosip/, `#signature names no signer namespace: ${signature}`);
      const versions = await page.innerText('#versions table');
      assert.match(versions, /1\.8\.0/);
      assert.match(versions, /1\.7\.1/);
      assert.ok(await page.$('#specs a[href^="/specs/govstack/identity"]'), '#specs links the spec it implements');
      assert.match(await page.innerText('#specs'), /1\.0\.2/, '#specs names the spec version');
      assert.match(await page.innerText('main'), /MPL-2\.0/, 'the licence is shown');
      // The README is rendered from Markdown: headings, no raw Markdown markers.
      assert.ok(await page.$('#readme h1, #readme h2, #readme h3'), 'the README has no rendered heading');
    }));

  test('from a package to its spec and its publisher', { timeout: TEST_TIMEOUT }, () =>
    withPage('spec-publisher', async (page) => {
      await page.goto('/packages/mosip/esignet');
      await tabTo(page, '#specs a[href^="/specs/govstack/identity"]', { max: 200 });
      await pressAndWait(page, 'Enter');
      assert.equal(new URL(page.url()).pathname, '/specs/govstack/identity');
      assert.match(await page.innerText('h1'), /identity/i);
      assert.match(await page.innerText('main'), /1\.0\.2/, 'the spec page lists its versions');
      assert.ok(await page.$('main a[href^="/packages/mosip/esignet"]'), 'the spec page lists mosip/esignet as implementing it');
      await page.goto('/packages/mosip/esignet');
      await tabTo(page, 'main a[href="/publishers/mosip"]', { max: 200 });
      await pressAndWait(page, 'Enter');
      assert.equal(new URL(page.url()).pathname, '/publishers/mosip');
      assert.ok(await page.$('main a[href^="/packages/mosip/esignet"]'), 'the publisher page lists its packages');
      assert.ok(await page.$('main a[href^="/packages/mosip/id-repository"]'), 'the publisher page lists its packages');
      assert.match(await page.innerText('main'), /sha256:[0-9a-f]{12,}/, 'the publisher page shows its signing key ids');
    }));

  test('compare two packages', { timeout: TEST_TIMEOUT }, () => withPage('compare', compareFlow));

  test('stack check: fits, does not fit, downloads', { timeout: TEST_TIMEOUT }, () =>
    withPage('stack-check', stackFlow));

  test('stack check: upload a stack.toml file', { timeout: TEST_TIMEOUT }, () =>
    withPage('stack-upload', async (page) => {
      await page.goto('/stack-check');
      assert.ok(await page.$('label[for="stack-file"]'), 'the file input has a label');
      await page.setInputFiles('#stack-file', {
        name: 'stack.toml',
        mimeType: 'application/toml',
        buffer: Buffer.from(STACK_FITS),
      });
      await tabTo(page, STACK_SUBMIT, { text: STACK_CHECK });
      const response = await pressAndWait(page, 'Enter');
      assert.equal(response.status(), 200);
      const fits = await page.$$eval('#result #fits tr:has(td)', (trs) => trs.map((tr) => tr.innerText));
      assert.ok(fits.some((r) => r.includes('mosip/esignet')), `an uploaded stack resolves like a pasted one: ${fits}`);
    }));

  test('stack check: invalid TOML says where', { timeout: TEST_TIMEOUT }, () =>
    withPage('stack-invalid', async (page) => {
      await page.goto('/stack-check');
      await tabTo(page, '#stack-text');
      await page.keyboard.insertText('[stack]\ncountry = "KE"\nname = \n');
      await tabTo(page, STACK_SUBMIT, { text: STACK_CHECK });
      const response = await pressAndWait(page, 'Enter');
      assert.equal(response.status(), 400);
      const alert = await page.$('main [role="alert"]');
      assert.ok(alert, 'invalid TOML: no role="alert" message');
      assert.match(await alert.innerText(), /line 3/i, 'the message names the line');
      assert.equal(await page.$('#result #fits'), null);
    }));

  test('a DPG listing is found and marked not installable', { timeout: TEST_TIMEOUT }, () =>
    withPage('listing', async (page) => {
      requireListings();
      await page.goto('/');
      await tabTo(page, '#site-q');
      await page.keyboard.type('Aam Digital');
      await pressAndWait(page, 'Enter');
      const links = await resultLinks(page);
      assert.ok(links.length > 0, 'no results for "Aam Digital"');
      assert.match(links[0].href ?? '', /^\/listings\//, `first result: ${JSON.stringify(links[0])}`);
      assert.match(links[0].text, /Aam Digital/);
      assert.match(links[0].item, /not installable/i, `the listing has no "Not installable" badge: ${links[0].item}`);
      assert.equal(links[0].checkbox, null, 'a listing cannot be compared as a package (no Compare box)');
      await tabTo(page, '#results > li:first-child a.result-link', { max: 400 });
      await pressAndWait(page, 'Enter');
      assert.match(new URL(page.url()).pathname, /^\/listings\//);
      assert.match(await page.innerText('h1'), /Aam Digital/);
      const main = await page.innerText('main');
      assert.match(main, /not installable/i);
      assert.match(main, /Digital Public Goods/);
      assert.match(main, /GPL-3\.0/, 'the listing shows its licence');
      assert.ok(await page.$('main a[href="https://www.aam-digital.com"]'), 'the listing links its website');
      const repo = 'main a[href="https://github.com/Aam-Digital/ndb-core"]';
      assert.ok(await page.$(repo), 'the listing links its repository');
    }));

  test('switch to French in the footer; the choice is remembered', { timeout: TEST_TIMEOUT }, () =>
    withPage('language', async (page, context) => {
      await page.goto('/');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      await tabTo(page, 'footer a[href*="lang=fr"]', { max: 400 });
      await pressAndWait(page, 'Enter');
      assert.equal(await page.getAttribute('html', 'lang'), 'fr');
      const cookie = (await context.cookies()).find((c) => c.name === 'lang');
      assert.ok(cookie, 'no lang cookie after choosing a language');
      assert.equal(cookie.value, 'fr');
      assert.equal(cookie.sameSite, 'Lax');
      const skipFr = await page.innerText('a.skip-link');
      await page.goto('/search?q=identity');
      assert.equal(await page.getAttribute('html', 'lang'), 'fr', 'the language is remembered across pages');
      await tabTo(page, 'footer a[href*="lang=en"]', { max: 400 });
      await pressAndWait(page, 'Enter');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.notEqual(await page.innerText('a.skip-link'), skipFr, 'the skip link is translated');
    }));

  test('Accept-Language chooses French when no language was picked', { timeout: TEST_TIMEOUT }, () =>
    withPage(
      'accept-language',
      async (page) => {
        await page.goto('/');
        assert.equal(await page.getAttribute('html', 'lang'), 'fr');
        await page.goto('/?lang=en');
        await page.goto('/');
        assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the lang cookie wins over Accept-Language');
      },
      { locale: 'fr-FR' },
    ));

  for (const [name, url] of [
    ['home', '/'],
    ['search', '/search?q=identity'],
    ['package', '/packages/mosip/esignet'],
  ]) {
    test(`focus is visible on every Tab stop: ${name}`, { timeout: TEST_TIMEOUT }, () =>
      withPage(`focus-${name}`, async (page) => {
        await page.goto(url);
        const stops = await allTabStops(page);
        assert.ok(stops.length >= 5, `only ${stops.length} Tab stops on ${url}`);
        const invisible = stops.filter(
          (s) => !((s.outlineStyle !== 'none' && s.outlineWidth > 0) || (s.boxShadow && s.boxShadow !== 'none')),
        );
        assert.deepEqual(
          invisible.map((s) => `${s.desc} (outline ${s.outlineStyle} ${s.outlineWidth}px, box-shadow ${s.boxShadow})`),
          [],
          `focused elements with neither outline nor box-shadow on ${url} (${stops.length} stops)`,
        );
        const hidden = stops.filter((s) => !s.visible);
        assert.deepEqual(
          hidden.map((s) => s.desc),
          [],
          `Tab stops with no size on ${url}: focus goes somewhere the user cannot see`,
        );
      }));
  }

  describe('with JavaScript disabled', () => {
    const off = { javaScriptEnabled: false };
    test('search', { timeout: TEST_TIMEOUT }, () =>
      withPage('nojs-search', (page) => searchFlow(page, 'esignet', 'mosip/esignet'), off));
    test('facet', { timeout: TEST_TIMEOUT }, () => withPage('nojs-facet', facetFlow, off));
    test('compare', { timeout: TEST_TIMEOUT }, () => withPage('nojs-compare', compareFlow, off));
    test('stack check', { timeout: TEST_TIMEOUT }, () => withPage('nojs-stack-check', stackFlow, off));
  });

  // Every page type: status, the shared layout of the contract, axe-core, a screenshot.
  // (Filling the form is not what these tests are about: page.fill and page.focus are fine.)
  const submitStack = (text) => async (page) => {
    await page.goto('/stack-check');
    await page.fill('#stack-text', text);
    await page.focus('#stack-text');
    await tabTo(page, STACK_SUBMIT, { text: STACK_CHECK });
    return pressAndWait(page, 'Enter');
  };
  const PAGES = [
    { name: 'home', url: '/' },
    { name: 'search', url: '/search?q=identity' },
    { name: 'search-facet', url: '/search?q=identity&license=MPL-2.0' },
    { name: 'browse', url: '/search' },
    { name: 'package', url: '/packages/mosip/esignet' },
    { name: 'package-old-version', url: '/packages/mosip/esignet?version=1.7.1' },
    {
      name: 'listing',
      open: async (page) => {
        requireListings();
        await page.goto('/search?q=Aam+Digital');
        const href = (await resultLinks(page)).find((l) => l.href?.startsWith('/listings/'))?.href;
        assert.ok(href, 'no /listings/ result for "Aam Digital"');
        return page.goto(href);
      },
    },
    { name: 'spec', url: '/specs/govstack/identity' },
    { name: 'publisher', url: '/publishers/mosip' },
    { name: 'compare', url: '/compare?p=mosip/esignet&p=x-road/security-server&p=keycloak/keycloak' },
    { name: 'compare-error', url: '/compare?p=mosip/esignet', status: 400, linkBack: true },
    { name: 'stack-check', url: '/stack-check' },
    { name: 'stack-check-fits', open: submitStack(STACK_FITS) },
    { name: 'stack-check-report', open: submitStack(STACK_NO_COPYLEFT) },
    { name: 'stack-check-invalid', open: submitStack('[stack\ncountry = "KE"\n'), status: 400 },
    { name: 'search-too-long', url: `/search?q=${'a'.repeat(101)}`, status: 400 },
    { name: 'not-found', url: '/packages/nobody/nothing', status: 404 },
    { name: 'home-fr', url: '/?lang=fr', lang: 'fr' },
    { name: 'package-fr', url: '/packages/mosip/esignet?lang=fr', lang: 'fr' },
  ];
  const open = async (page, p) => {
    const response = p.open ? await p.open(page) : await page.goto(p.url);
    assert.ok(response, `no response for ${p.name}`);
    assert.equal(response.status(), p.status ?? 200, `${p.name}: HTTP status`);
    return response;
  };

  describe('every page type', () => {
    for (const p of PAGES) {
      test(`axe-core finds no WCAG 2.2 A/AA violation: ${p.name}`, { timeout: TEST_TIMEOUT }, () =>
        withPage(
          `axe-${p.name}`,
          async (page) => {
            await open(page, p);
            await screenshot(page, p.name);
            const violations = await axeViolations(page);
            assert.equal(violations.length, 0, describeViolations(page.url(), violations));
          },
          { bypassCSP: true },
        ));

      test(`page layout follows the contract: ${p.name}`, { timeout: TEST_TIMEOUT }, () =>
        withPage(`layout-${p.name}`, async (page) => {
          const response = await open(page, p);
          const headers = response.headers();
          assert.match(headers['content-type'] ?? '', /^text\/html/);
          assert.match(headers['content-security-policy'] ?? '', /default-src 'self'/);
          assert.equal(headers['x-content-type-options'], 'nosniff');
          const shape = await page.evaluate(() => ({
            lang: document.documentElement.lang,
            h1: document.querySelectorAll('h1').length,
            h1InMain: document.querySelectorAll('main#main[tabindex="-1"] h1').length,
            mains: document.querySelectorAll('main').length,
            title: document.title.trim(),
            search: !!document.querySelector(
              'header form[role="search"][action="/search"]:is([method="get" i], :not([method])) ' +
                'input#site-q[name="q"][type="search"]',
            ),
            searchLabel: !!document.querySelector('header form[role="search"] label[for="site-q"]'),
            home: !!document.querySelector('header a[href="/"]'),
            langLinks: ['en', 'fr'].map((l) => !!document.querySelector(`footer a[href*="lang=${l}"]`)),
            inlineScripts: [...document.querySelectorAll('script:not([src])')].length,
            inlineStyles: document.querySelectorAll('style, [style]').length,
          }));
          assert.equal(shape.lang, p.lang ?? 'en', 'html lang');
          assert.equal(shape.h1, 1, 'exactly one <h1>');
          assert.equal(shape.h1InMain, 1, 'the <h1> is in <main id="main" tabindex="-1">');
          assert.equal(shape.mains, 1, 'one <main>');
          assert.ok(shape.title.length > 0, 'a <title>');
          assert.ok(shape.search && shape.searchLabel, 'the header search form (role=search, labelled #site-q)');
          assert.ok(shape.home, 'the header links the site name to /');
          assert.deepEqual(shape.langLinks, [true, true], 'the footer links ?lang=en and ?lang=fr');
          assert.equal(shape.inlineScripts, 0, 'no inline scripts');
          assert.equal(shape.inlineStyles, 0, 'no inline styles');
          await page.keyboard.press('Tab');
          assert.ok(
            await page.evaluate(() => document.activeElement.matches('a.skip-link[href="#main"]')),
            `the first Tab stop is the skip link, not ${(await focused(page)).desc}`,
          );
          if (p.linkBack) assert.ok(await page.$('main a[href]'), 'the error page links back');
        }));
    }
  });
});

// The ministry's workspace and a country's public page in headless Chromium, by keyboard
// only, against the demo country Sierra Leone (SL: threshold 2, approvers amara, kofi and
// fatmata, reviewer musa, a server-held approver key, approvals, a revocation and two
// open proposals; `demo_country` in server/src/demo.rs): sign in as an approver and as a
// reviewer, the review queue, recommending, approving with the server-held key, revoking
// with a reason, the country page; the same with JavaScript off and in French; axe-core
// (WCAG 2.2 A/AA) with zero violations on every page type, with screenshots.
//
// Run: node --test --test-concurrency=1 countries.test.js (scripts/browser.sh does it).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import {
  BACKEND,
  Server,
  axeViolations,
  describeViolations,
  focused,
  launchBrowser,
  pressAndWait,
  screenshot,
  tabTo,
  withPage as sharedWithPage,
} from './harness.js';

const TEST_TIMEOUT = 120_000;
const MAX_TABS = 300;

let server;
let browser;
let password;
let anyFailed = false;

/** Runs `fn(page, context)` in a fresh browser context; keeps a screenshot on failure and
 * fails if the page broke its Content-Security-Policy. */
async function withPage(name, fn, contextOptions = {}) {
  return sharedWithPage(browser, server.url, name, fn, {
    prefix: 'countries-',
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
    queue: /Review queue/,
    done_recommended: /recommendation was recorded/,
    done_approved: /approval was signed and recorded/,
    done_revoked: /revocation was signed and recorded/,
    revoked: /Revoked/,
    approved: /Approved/,
    policy: /2 distinct approvers must sign/,
  },
  fr: {
    lang: 'fr',
    queue: /File de revue/,
    done_recommended: /recommandation a été enregistrée/,
    done_approved: /approbation a été signée et enregistrée/,
    done_revoked: /révocation a été signée et enregistrée/,
    revoked: /Révoqué/,
    approved: /Approuvé/,
    policy: /2 approbateurs distincts doivent signer/,
  },
};

/** From a page that needs sign-in: the redirect to the sign-in form, filled and sent by
 * keyboard, back to `path`. */
async function signIn(page, user, path, t) {
  const response = await page.goto(path);
  assert.equal(response.status(), 200);
  const url = new URL(page.url());
  assert.equal(url.pathname, '/signin', `an anonymous visit to ${path} goes to the sign-in form`);
  assert.equal(url.searchParams.get('next'), path);
  assert.equal(await page.getAttribute('html', 'lang'), t.lang);
  await tabTo(page, '#signin-user', { max: MAX_TABS });
  await page.keyboard.type(user);
  await tabTo(page, '#signin-password', { max: 10 });
  await page.keyboard.type(password);
  await tabTo(page, '#signin-form button[type="submit"]', { max: 20 });
  await pressAndWait(page, 'Enter');
  assert.equal(new URL(page.url()).pathname, path, `after sign-in ${user} is back at ${path}`);
}

/** Opens the queue entry for `pkg` by keyboard; returns the proposal page's path. */
async function openProposal(page, pkg) {
  const link = `#queue-table a[href^="/countries/SL/proposals/"]`;
  await tabTo(page, link, { text: new RegExp(pkg.replace('/', '\\/')), max: MAX_TABS });
  await pressAndWait(page, 'Enter');
  const path = new URL(page.url()).pathname;
  assert.match(path, /^\/countries\/SL\/proposals\/\d+$/);
  return path;
}

/** A reviewer: sign in, the review queue, recommend approving opencrvs with a note. */
async function reviewerFlow(page, t) {
  await signIn(page, 'musa', '/countries/SL/workspace', t);
  assert.match(await page.innerText('#queue'), t.queue);
  const rows = await page.$$eval('#queue-table tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ')));
  assert.ok(rows.some((r) => r.includes('opencrvs/opencrvs-core 2.0.0')), `queue: ${JSON.stringify(rows)}`);
  const path = await openProposal(page, 'opencrvs/opencrvs-core');
  assert.equal(await page.$('#approve-form'), null, 'a reviewer sees no approve form');
  assert.equal(await page.$('#revoke-form'), null, 'a reviewer sees no revoke form');
  assert.ok(await page.$('#stack'), 'the evidence has the stack check section');
  await tabTo(page, '#rec-approve', { max: MAX_TABS });
  await page.keyboard.press('Space');
  assert.ok(await page.isChecked('#rec-approve'), 'Space selects "approve"');
  await tabTo(page, '#rec-notes', { max: 10 });
  const note = `Checked by keyboard ${Date.now()}`;
  await page.keyboard.type(note);
  await tabTo(page, '#recommend-form button[type="submit"]', { max: 10 });
  const response = await pressAndWait(page, 'Enter');
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, path);
  assert.match(await page.innerText('#done'), t.done_recommended);
  const recs = await page.innerText('#recommendations');
  assert.ok(recs.includes(note) && recs.includes('musa'), `recommendations: ${recs}`);
}

/** An approver: sign in, propose openimis 24.4.0 (a revoked proposal opens again),
 * approve it with the server-held key, then revoke it with a reason; the country page
 * lists the revocation and its reason. */
async function approverFlow(page, t) {
  await signIn(page, 'amara', '/countries/SL/workspace', t);
  await tabTo(page, '#propose-package', { max: MAX_TABS });
  await page.keyboard.type('openimis/openimis');
  await tabTo(page, '#propose-version', { max: 10 });
  await page.keyboard.type('24.4.0');
  await tabTo(page, '#propose-form button[type="submit"]', { max: 10 });
  await pressAndWait(page, 'Enter');
  const path = new URL(page.url()).pathname;
  assert.match(path, /^\/countries\/SL\/proposals\/\d+$/);
  assert.match(await page.innerText('h1'), /openIMIS|openimis/i);
  assert.ok(await page.$('#approve-form'), 'an approver sees the approve form (the server holds a key for SL)');
  const before = await page.$$eval('#decision-statements tbody tr', (trs) => trs.length).catch(() => 0);
  await tabTo(page, '#approve-reason', { max: MAX_TABS });
  await page.keyboard.type('Pilot in two districts');
  await tabTo(page, '#approve-form button[type="submit"]', { max: 10 });
  let response = await pressAndWait(page, 'Enter');
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, path);
  assert.match(await page.innerText('#done'), t.done_approved);
  const rows = await page.$$eval('#decision-statements tbody tr', (trs) => trs.map((tr) => tr.innerText));
  assert.equal(rows.length, before + 1, `one more signed statement: ${JSON.stringify(rows)}`);
  assert.ok(rows.some((r) => t.approved.test(r) && r.includes('amara')), `statements: ${JSON.stringify(rows)}`);

  const reason = `Licence review reopened ${Date.now()}`;
  await tabTo(page, '#revoke-reason', { max: MAX_TABS });
  await page.keyboard.type(reason);
  await tabTo(page, '#revoke-form button[type="submit"]', { max: 10 });
  response = await pressAndWait(page, 'Enter');
  assert.equal(response.status(), 200);
  assert.match(await page.innerText('#done'), t.done_revoked);
  const state = await page.innerText('#approval-state');
  assert.match(state, t.revoked);
  assert.ok(state.includes(reason), `the state names the reason: ${state}`);

  // The country's public page, reached by keyboard from the workspace.
  await tabTo(page, 'main a[href="/countries/SL/workspace"]', { max: MAX_TABS });
  await pressAndWait(page, 'Enter');
  await tabTo(page, 'main a[href="/countries/SL"]', { max: MAX_TABS });
  await pressAndWait(page, 'Enter');
  assert.equal(new URL(page.url()).pathname, '/countries/SL');
  await countryChecks(page, t, reason);
}

async function countryChecks(page, t, reason) {
  assert.equal(await page.getAttribute('html', 'lang'), t.lang);
  assert.match(await page.innerText('h1'), /Sierra Leone/);
  assert.match(await page.innerText('#policy'), t.policy);
  const keys = await page.innerText('#keys');
  for (const who of ['amara', 'kofi', 'fatmata']) assert.ok(keys.includes(who), `keys: ${keys}`);
  const rows = await page.$$eval('#statements tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ')));
  assert.ok(rows.length >= 7, `statements: ${JSON.stringify(rows)}`);
  assert.ok(
    rows.some((r) => r.includes('mosip/esignet 1.7.1') && t.revoked.test(r) && /Superseded by 1\.8\.0/.test(r)),
    `the demo's revocation with its reason: ${JSON.stringify(rows)}`,
  );
  if (reason) {
    assert.ok(rows[0].includes('openimis/openimis 24.4.0') && rows[0].includes(reason), `newest first: ${rows[0]}`);
  }
  // Each statement links to its package version.
  await tabTo(page, '#statements a[href="/packages/x-road/security-server?version=7.8.0"]', { max: MAX_TABS });
  await pressAndWait(page, 'Enter');
  assert.equal(new URL(page.url()).pathname, '/packages/x-road/security-server');
  const badge = await page.innerText('#approvals');
  assert.match(badge, t.approved);
  assert.match(badge, /2/);
}

describe(`country workspace in Chromium (${BACKEND})`, { timeout: 20 * 60_000 }, () => {
  before(
    async () => {
      server = new Server();
      await server.start();
      const out = fs.readFileSync(server.stdoutPath, 'utf8');
      password = out.match(/demo web sign-in: user \S+, password (\S+)/)?.[1];
      assert.ok(password, `the demo printed no web password:\n${out}`);
      browser = await launchBrowser();
    },
    { timeout: 300_000 },
  );

  after(async () => {
    await browser?.close();
    if (anyFailed && server?.proc) console.log(`\n${server.log(60)}`);
    await server?.stop();
  });

  test('the country page, anonymously', { timeout: TEST_TIMEOUT }, () =>
    withPage('country', async (page) => {
      await page.goto('/packages/mosip/esignet');
      await tabTo(page, '#approvals a[href="/countries/SL"]', { max: MAX_TABS });
      await pressAndWait(page, 'Enter');
      await countryChecks(page, TEXT.en, null);
    }));

  for (const [lang, options] of [
    ['en', {}],
    ['fr', { locale: 'fr-FR' }],
  ]) {
    const t = TEXT[lang];
    for (const [js, extra] of [
      ['', {}],
      [' (JavaScript off)', { javaScriptEnabled: false }],
    ]) {
      test(`a reviewer recommends from the review queue [${lang}]${js}`, { timeout: TEST_TIMEOUT }, () =>
        withPage(`reviewer-${lang}${extra.javaScriptEnabled === false ? '-nojs' : ''}`, (page) => reviewerFlow(page, t), {
          ...options,
          ...extra,
        }));
      test(`an approver approves with the server-held key and revokes [${lang}]${js}`, { timeout: TEST_TIMEOUT }, () =>
        withPage(`approver-${lang}${extra.javaScriptEnabled === false ? '-nojs' : ''}`, (page) => approverFlow(page, t), {
          ...options,
          ...extra,
        }));
    }
  }

  test('a revocation without a reason is not sent', { timeout: TEST_TIMEOUT }, () =>
    withPage('revoke-needs-reason', async (page) => {
      await signIn(page, 'amara', '/countries/SL/workspace', TEXT.en);
      await openProposal(page, 'opencrvs/opencrvs-core');
      const before = page.url();
      await tabTo(page, '#revoke-form button[type="submit"]', { max: MAX_TABS });
      await page.keyboard.press('Enter');
      await page.waitForTimeout(500);
      assert.equal(page.url(), before, 'the browser keeps the form: the reason is required');
      assert.equal(await page.$eval('#revoke-reason', (el) => el.validity.valueMissing), true);
      assert.equal((await focused(page)).id, 'revoke-reason', 'focus moves to the missing reason');
    }));

  // Every page type of the workspace: axe-core with zero violations, and a screenshot.
  const PAGES = [
    { name: 'country', path: '/countries/SL' },
    { name: 'country-fr', path: '/countries/SL?lang=fr' },
    { name: 'workspace', path: '/countries/SL/workspace', user: 'amara' },
    { name: 'workspace-fr', path: '/countries/SL/workspace', user: 'amara', locale: 'fr-FR' },
    { name: 'proposal', proposal: 'opencrvs/opencrvs-core', user: 'amara' },
    { name: 'proposal-fr', proposal: 'opencrvs/opencrvs-core', user: 'amara', locale: 'fr-FR' },
    { name: 'proposal-reviewer', proposal: 'opencrvs/opencrvs-core', user: 'musa' },
    { name: 'package-approvals', path: '/packages/mosip/esignet?version=1.7.1' },
    { name: 'compare-approvals', path: '/compare?p=mosip/esignet&p=x-road/security-server' },
  ];
  for (const p of PAGES) {
    test(`axe-core finds no WCAG 2.2 A/AA violation: ${p.name}`, { timeout: TEST_TIMEOUT }, () =>
      withPage(
        `axe-${p.name}`,
        async (page) => {
          const t = p.locale ? TEXT.fr : TEXT.en;
          if (p.user) await signIn(page, p.user, '/countries/SL/workspace', t);
          if (p.proposal) await openProposal(page, p.proposal);
          else {
            const response = await page.goto(p.path);
            assert.equal(response.status(), 200);
          }
          await screenshot(page, `countries-${p.name}`);
          const violations = await axeViolations(page);
          assert.equal(violations.length, 0, describeViolations(page.url(), violations));
        },
        { bypassCSP: true, ...(p.locale ? { locale: p.locale } : {}) },
      ));
  }
});

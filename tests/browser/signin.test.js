// Web sign-in in headless Chromium, by keyboard only, with JavaScript on and off: from a
// page to the sign-in form and back to that page signed in, a wrong password refused,
// sign-out, a form posted without its CSRF token refused (nothing changes), and
// axe-core (WCAG 2.2 AA) on the sign-in page anonymous, with an error, signed in, and in
// French. The demo prints the web user's password (`demo web sign-in: user U, password P`).
//
// Run: node --test --test-concurrency=1 signin.test.js (scripts/browser.sh does it).

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

let server;
let browser;
let user;
let password;
let anyFailed = false;

/** Runs `fn(page, context)` in a fresh browser context (own cookies); on failure keeps a
 * screenshot. Fails if the page broke its own Content-Security-Policy. */
async function withPage(name, fn, contextOptions = {}) {
  return sharedWithPage(browser, server.url, name, fn, {
    prefix: '',
    contextOptions: { ...contextOptions },
    onFail: () => {
      anyFailed = true;
    },
  });
}

/** The header's text naming who is signed in, or null. */
async function signedInAs(page) {
  return page.evaluate(() => document.querySelector('header .signed-in')?.innerText.trim() ?? null);
}

/** From `start`, by keyboard: the header's "Sign in" link, the form, back to `start`. */
async function signInFlow(page, start, secret) {
  await page.goto(start);
  await tabTo(page, 'header a[href^="/signin"]', { text: /sign in|se connecter/i });
  await pressAndWait(page, 'Enter');
  assert.equal(new URL(page.url()).pathname, '/signin');
  await tabTo(page, '#signin-user');
  await page.keyboard.type(user);
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).id, 'signin-password');
  await page.keyboard.type(secret);
  await tabTo(page, '#signin-form button[type="submit"]');
  return pressAndWait(page, 'Enter');
}

/** Signed in, by keyboard: the header's sign-out button. */
async function signOutFlow(page) {
  await tabTo(page, 'header form[action="/signout"] button', { text: /sign out|se déconnecter/i });
  await pressAndWait(page, 'Enter');
  assert.equal(new URL(page.url()).pathname, '/');
  assert.equal(await signedInAs(page), null, 'still signed in after signing out');
  assert.ok(await page.$('header a[href^="/signin"]'), 'no "Sign in" link after signing out');
}

async function passwordFlow(page) {
  const response = await signInFlow(page, '/search?q=identity', password);
  assert.equal(response.status(), 200);
  const url = new URL(page.url());
  assert.equal(`${url.pathname}${url.search}`, '/search?q=identity', 'back where sign-in started');
  assert.equal(await signedInAs(page), `Signed in as ${user}`);
  // The session survives navigation.
  await page.goto('/');
  assert.equal(await signedInAs(page), `Signed in as ${user}`);
  await signOutFlow(page);
}

async function wrongPasswordFlow(page) {
  const response = await signInFlow(page, '/', 'not the password at all');
  assert.equal(response.status(), 401);
  const alert = await page.evaluate(() => document.querySelector('#signin-error[role="alert"]')?.innerText.trim());
  assert.equal(alert, 'The user name or password is wrong.');
  assert.equal(await signedInAs(page), null);
  assert.equal(await page.inputValue('#signin-user'), user, 'the user name is kept');
  assert.equal(await page.inputValue('#signin-password'), '', 'the password is not');
}

describe(`web sign-in in Chromium (${BACKEND})`, { timeout: 15 * 60_000 }, () => {
  before(
    async () => {
      server = new Server();
      await server.start();
      const out = fs.readFileSync(server.stdoutPath, 'utf8');
      const m = out.match(/demo web sign-in: user (\S+), password (\S+)/);
      assert.ok(m, `the demo printed no web user:\n${out}`);
      [, user, password] = m;
      browser = await launchBrowser();
    },
    { timeout: 300_000 },
  );

  after(async () => {
    await browser?.close();
    if (anyFailed && server?.proc) console.log(`\n${server.log(60)}`);
    await server?.stop();
  });

  test('sign in with a password and out again, by keyboard', { timeout: TEST_TIMEOUT }, () =>
    withPage('signin', passwordFlow));

  test('a wrong password is refused and says so', { timeout: TEST_TIMEOUT }, () =>
    withPage('signin-wrong', wrongPasswordFlow));

  test('a form posted without its CSRF token is refused and changes nothing', { timeout: TEST_TIMEOUT }, () =>
    withPage('signin-csrf', async (page, context) => {
      await signInFlow(page, '/', password);
      assert.equal(await signedInAs(page), `Signed in as ${user}`);
      // The browser's own cookies, a form without the token: as another site's form would post.
      const refused = await context.request.post('/signout', { form: { reason: 'no token' }, maxRedirects: 0 });
      assert.equal(refused.status(), 403);
      assert.match(await refused.text(), /security token/);
      await page.goto('/');
      assert.equal(await signedInAs(page), `Signed in as ${user}`, 'the refused sign-out ended the session');
      await signOutFlow(page);
    }));

  describe('with JavaScript disabled', () => {
    const off = { javaScriptEnabled: false };
    test('sign in and out', { timeout: TEST_TIMEOUT }, () => withPage('nojs-signin', passwordFlow, off));
    test('a wrong password', { timeout: TEST_TIMEOUT }, () => withPage('nojs-signin-wrong', wrongPasswordFlow, off));
  });

  describe('axe-core finds no WCAG 2.2 A/AA violation', () => {
    const cases = [
      ['signin', async (page) => page.goto('/signin')],
      ['signin-fr', async (page) => page.goto('/signin?lang=fr')],
      ['signin-error', async (page) => signInFlow(page, '/', 'not the password at all')],
      [
        'signed-in-home',
        async (page) => {
          await signInFlow(page, '/', password);
          return page.goto('/');
        },
      ],
      [
        'signed-in-home-fr',
        async (page) => {
          await signInFlow(page, '/', password);
          return page.goto('/?lang=fr');
        },
      ],
    ];
    for (const [name, open] of cases) {
      test(name, { timeout: TEST_TIMEOUT }, () =>
        withPage(
          `axe-${name}`,
          async (page) => {
            await open(page);
            await screenshot(page, name);
            const violations = await axeViolations(page);
            assert.equal(violations.length, 0, describeViolations(page.url(), violations));
          },
          { bypassCSP: true },
        ));
    }
  });
});

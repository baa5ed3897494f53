import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../helpers/chromium.ts';
import { totpCode } from '../../packages/server/src/mfa/totp.ts';
import { startServer, uniqueEmail, type TestServer } from '../../packages/server/test/helpers/test-server.ts';

/**
 * The demo page in a real headless Chromium (Debian's package, driven by playwright-core): the
 * whole cookie-mode lifecycle as a person sees it, with a short access lifetime so automatic
 * refreshes happen within the test.
 */
// On a laptop without Chromium the suite is skipped with one line saying so; in CI it must run.
const missing = !existsSync(CHROMIUM);
if (missing && process.env['CI'])
  throw new Error(`Chromium not found at ${CHROMIUM}: CI must run the browser tests`);
if (missing)
  console.log(`# browser tests skipped: install Chromium (apt-get install chromium) or set TESSERA_CHROMIUM`);
const ACCESS_TTL_SECONDS = 6;
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

describe('demo page in Chromium', { skip: missing }, () => {
  let server: TestServer;
  let browser: Browser;
  const refreshRequests: number[] = [];

  before(async () => {
    server = await startServer(
      { TESSERA_ACCESS_TTL: `${ACCESS_TTL_SECONDS}s`, TESSERA_IP_RATE_LIMIT: '100000' },
      {
        realClock: true,
        beforeListen: (app) =>
          app.addHook('onRequest', async (request) => {
            if (request.url.startsWith('/auth/refresh')) refreshRequests.push(Date.now());
          }),
      },
    );
    // The page must be same-origin with the issuer's host name: use localhost, a secure context.
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const url = (): string => server.url.replace('127.0.0.1', 'localhost');

  async function signUpAndLogIn(context: BrowserContext): Promise<{ page: Page; email: string }> {
    const page = await context.newPage();
    await page.goto(url());
    const email = uniqueEmail('browser');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: `Signed in as ${email}` }).waitFor({ timeout: 10_000 });
    return { page, email };
  }

  test('sign up, stay logged in through automatic refreshes and a reload, then log out', async () => {
    const context = await browser.newContext();
    try {
      const { page, email } = await signUpAndLogIn(context);
      const claims = JSON.parse((await page.locator('#token-claims').textContent()) ?? '{}') as Record<
        string,
        unknown
      >;
      assert.equal(claims['role'], 'user');
      assert.ok(!(await page.content()).includes('tsr1_'), 'no refresh token anywhere in the page');
      const cookieNames = (await context.cookies()).map((cookie) => cookie.name).sort();
      assert.deepEqual(cookieNames, ['__Host-tessera_at', '__Secure-tessera_rt', 'tessera_csrf']);
      assert.equal(await page.evaluate("document.cookie.includes('tessera_at')"), false, 'HttpOnly');

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: new URL('demo-logged-in.png', ARTIFACTS).pathname, fullPage: true });

      // Wait through two access lifetimes: the page must refresh by itself and stay signed in.
      await page
        .getByText('Access token refreshed automatically')
        .first()
        .waitFor({ timeout: ACCESS_TTL_SECONDS * 2000 });
      await page.waitForTimeout(ACCESS_TTL_SECONDS * 1000);
      assert.equal(await page.evaluate(() => fetch('/auth/me').then((response) => response.status)), 200);

      await page.reload();
      await page.getByRole('heading', { name: `Signed in as ${email}` }).waitFor({ timeout: 10_000 });

      // A cookie-authenticated POST without the CSRF header is refused.
      const status = await page.evaluate(() =>
        fetch('/auth/logout-all', { method: 'POST' }).then((response) => response.status),
      );
      assert.equal(status, 403);

      await page.getByRole('button', { name: 'Log out', exact: true }).click();
      await page.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 10_000 });
      assert.equal(await page.evaluate(() => fetch('/auth/me').then((response) => response.status)), 401);
    } finally {
      await context.close();
    }
  });

  test('two tabs: one refresh request per expiry, both stay signed in', async () => {
    const context = await browser.newContext();
    try {
      const { page: first, email } = await signUpAndLogIn(context);
      const second = await context.newPage();
      await second.goto(url());
      await second.getByRole('heading', { name: `Signed in as ${email}` }).waitFor({ timeout: 10_000 });
      // Count over three lifetimes once both tabs are settled.
      const start = Date.now();
      await first.waitForTimeout(ACCESS_TTL_SECONDS * 3000);
      const times = refreshRequests.filter((time) => time >= start);
      // One tab refreshes between one and two leads (1.5 s each here) before expiry, so one per
      // 3–4.5 s: at most 7 in 18 s. Two tabs refreshing on their own would double that, and their
      // requests would come in pairs a few milliseconds apart.
      assert.ok(
        times.length >= 3 && times.length <= 7,
        `${times.length} refresh requests in three lifetimes`,
      );
      const gaps = times.slice(1).map((time, index) => time - (times[index] ?? 0));
      assert.ok(
        gaps.every((gap) => gap > 1000),
        `no near-simultaneous refreshes: gaps ${gaps.join(', ')} ms`,
      );
      for (const page of [first, second]) {
        assert.equal(await page.evaluate(() => fetch('/auth/me').then((response) => response.status)), 200);
      }
    } finally {
      await context.close();
    }
  });

  test('forgot password: the demo page, the mail file, the link, a new password', async () => {
    const context = await browser.newContext();
    try {
      const { page, email } = await signUpAndLogIn(context);
      await page.getByRole('button', { name: 'Log out', exact: true }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Email', { exact: true }).fill(email);
      await page.getByRole('button', { name: 'Forgot password?' }).click();
      await page.getByText('a reset link is on its way').waitFor();

      // No TESSERA_SMTP_URL here: the message is a file in the server's mail folder.
      const link = await resetLinkFromMailFile(join(server.dir, 'mail'), email);
      assert.match(link, /\/reset-password#token=/);
      await page.goto(link.replace('http://tessera.test', url()));
      assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
      await page.getByLabel('New password', { exact: true }).fill('a new and longer passphrase');
      await page.getByRole('button', { name: 'Set password' }).click();
      await page.getByText('Your password is changed').waitFor();

      await page.goto(url());
      await page.getByLabel('Email', { exact: true }).fill(email);
      await page.getByLabel('Password', { exact: true }).fill('a new and longer passphrase');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: `Signed in as ${email}` }).waitFor({ timeout: 10_000 });
    } finally {
      await context.close();
    }
  });

  test('sign-in by emailed code, and by the link in the same mail', async () => {
    const context = await browser.newContext();
    const mailDir = join(server.dir, 'mail');
    try {
      const { page, email } = await signUpAndLogIn(context);
      await page.getByRole('button', { name: 'Log out', exact: true }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Email', { exact: true }).fill(email);
      await page.getByRole('button', { name: 'Email me a code' }).click();
      const [, code] = await fromMailFile(mailDir, email, /^ {4}(\d{6})$/m);
      await page.getByLabel('Code from the email').fill(code!);
      await page.getByRole('button', { name: 'Sign in with the code' }).click();
      await page.getByRole('heading', { name: `Signed in as ${email}` }).waitFor({ timeout: 10_000 });

      // The link: a newer code's mail, opened in this browser, signs in after the button press.
      await page.getByRole('button', { name: 'Log out', exact: true }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      for (const name of readdirSync(mailDir)) rmSync(join(mailDir, name));
      await page.getByLabel('Email', { exact: true }).fill(email);
      await page.getByRole('button', { name: 'Email me a code' }).click();
      const [link] = await fromMailFile(mailDir, email, /https?:\/\/\S+\/sign-in#token=[A-Za-z0-9_-]+/);
      await page.goto(link.replace('http://tessera.test', url()));
      assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: `Signed in as ${email}` }).waitFor({ timeout: 10_000 });
    } finally {
      await context.close();
    }
  });

  test('two-factor: set up an app from the QR code, then sign in with the password and a recovery code', async () => {
    const context = await browser.newContext();
    try {
      const { page, email } = await signUpAndLogIn(context);
      await page.getByText('Off', { exact: true }).waitFor();
      await page.getByLabel('Password (to set up an app)').fill('correct horse battery staple');
      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
      await qr.waitFor();
      assert.match(String(await qr.getAttribute('src')), /^data:image\/svg\+xml;base64,/);
      const width = await qr.evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth);
      assert.ok(width > 0, 'the QR code renders');
      const secret = (await page.locator('#totp-secret').textContent()) ?? '';
      await page.getByLabel('Code from the app').fill(totpCode(secret, Date.now()));
      await page.getByRole('button', { name: 'Turn on' }).click();
      await page
        .getByText(/^On: an authenticator app \(10 recovery codes left\)$/)
        .waitFor({ timeout: 10_000 });
      const recoveryCode = (await page.locator('#recovery-codes li').first().textContent()) ?? '';
      const secondRecoveryCode = (await page.locator('#recovery-codes li').nth(1).textContent()) ?? '';
      assert.match(recoveryCode, /^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/);

      await page.getByRole('button', { name: 'Log out', exact: true }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Email', { exact: true }).fill(email);
      await page.getByLabel('Password', { exact: true }).fill('correct horse battery staple');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByLabel('Authenticator or recovery code').fill(recoveryCode);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: `Signed in as ${email}` }).waitFor({ timeout: 10_000 });
      await page
        .getByText(/^On: an authenticator app \(9 recovery codes left\)$/)
        .waitFor({ timeout: 10_000 });
      assert.match(String(await page.locator('#token-claims').textContent()), /"mfa"/);

      // The emailed sign-in link stops at the second step too, and its page asks for the code.
      await page.getByRole('button', { name: 'Log out', exact: true }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Email', { exact: true }).fill(email);
      await page.getByRole('button', { name: 'Email me a code' }).click();
      const [link] = await fromMailFile(
        join(server.dir, 'mail'),
        email,
        /https?:\/\/\S+\/sign-in#token=[A-Za-z0-9_-]+/,
      );
      await page.goto(link.replace('http://tessera.test', url()));
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByLabel('Authenticator or recovery code').fill(secondRecoveryCode);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: `Signed in as ${email}` }).waitFor({ timeout: 10_000 });
    } finally {
      await context.close();
    }
  });

  test('the verification link opens a page that confirms the address on a press', async () => {
    const context = await browser.newContext();
    try {
      const { email } = await signUpAndLogIn(context);
      const [link] = await fromMailFile(
        join(server.dir, 'mail'),
        email,
        /https?:\/\/\S+\/verify-email#token=[A-Za-z0-9_-]+/,
      );
      const page = await context.newPage();
      await page.goto(link.replace('http://tessera.test', url()));
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.getByText(`Your address ${email} is confirmed.`).waitFor();
    } finally {
      await context.close();
    }
  });
});

/** The reset link of the `.eml` file written for `email`, read as a mail program would. */
async function resetLinkFromMailFile(dir: string, email: string): Promise<string> {
  return (await fromMailFile(dir, email, /https?:\/\/\S+\/reset-password#token=[A-Za-z0-9_-]+/))[0];
}

/** The first match of `pattern` in the text of an `.eml` file written for `email`. */
async function fromMailFile(dir: string, email: string, pattern: RegExp): Promise<RegExpExecArray> {
  const deadline = Date.now() + 5000;
  for (;;) {
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      const mail = await simpleParser(readFileSync(join(dir, name)));
      const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
      if (!to.some((address) => address.text.includes(email))) continue;
      const match = pattern.exec(mail.text ?? '');
      if (match) return match;
    }
    if (Date.now() > deadline) throw new Error(`no mail matching ${pattern} for ${email} in ${dir}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

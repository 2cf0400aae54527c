import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page, type Response } from 'playwright-core';
import { findFreePort } from '../src/database/embedded-postgres';
import { logCapture } from './support/raw-http';
import { linkIn, type ReceivedMail, TestSmtpServer, tokenOf } from './support/smtp';
import { createTestApp, logIn, registerUser, TEST_PASSWORD, type TestApp, type TestUser } from './support/test-app';

/**
 * Debian's Chromium (`apt-get install -y chromium`), as in docs.browser.e2e-spec.ts: with
 * TEST_CHROMIUM set this test must run; elsewhere it is skipped when Chromium is missing.
 */
const CHROMIUM = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_REQUIRED = Boolean(process.env.TEST_CHROMIUM);
const STEP_TIMEOUT_MS = 15_000;
const MAIL_TIMEOUT_MS = 15_000;
/** A phone (an iPhone SE/12 mini class screen), with the mobile viewport rules on. */
const PHONE = { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

const VERIFICATION_SUBJECT = 'Confirm your e-mail address';
const RESET_SUBJECT = 'Reset your password';

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !CHROMIUM_REQUIRED) {
  console.warn(
    `Skipping the browser test of the account pages: no Chromium at ${CHROMIUM}. ` +
      'Install it with `apt-get install -y chromium` (or set TEST_CHROMIUM to its path) to run it.',
  );
}
const describeInBrowser = haveChromium || CHROMIUM_REQUIRED ? describe : describe.skip;

/**
 * Runs before any script of every document (and is not subject to the page's policy): keeps
 * each Content-Security-Policy violation the document reports, so the test can read them.
 */
const RECORD_CSP_VIOLATIONS = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(event.violatedDirective + ' blocked ' + (event.blockedURI || '(inline)'));
  });
`;

/** What a page did that a person does not see: requests, console errors, policy violations. */
interface Watched {
  page: Page;
  requests: string[];
  consoleErrors: string[];
  cspViolations: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeInBrowser('the pages behind the links in mails, in a real browser (Chromium on a phone-sized screen)', () => {
  const capture = logCapture();
  let smtp: TestSmtpServer;
  let t: TestApp;
  let origin: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!haveChromium) {
      throw new Error(`TEST_CHROMIUM is set but there is no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
    }
    smtp = await TestSmtpServer.start();
    // The links in the mails must lead to this app: its address is fixed before it starts.
    const port = await findFreePort();
    origin = `http://127.0.0.1:${port}`;
    t = await createTestApp(
      {
        SMTP_URL: smtp.url,
        MAIL_POLL_INTERVAL_MS: '100',
        PUBLIC_URL: origin,
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
      },
      { logDestination: capture.stream },
    );
    await t.app.listen(port, '127.0.0.1');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await Promise.allSettled(contexts.map((context) => context.close()));
    await browser?.close();
    await t?.close();
    await smtp?.stop();
  });

  /** A new phone-sized browser page that records what it requests, logs and violates. */
  async function openPhonePage(): Promise<Watched> {
    const context = await browser.newContext(PHONE);
    contexts.push(context);
    await context.addInitScript({ content: RECORD_CSP_VIOLATIONS });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const watched: Watched = { page, requests: [], consoleErrors: [], cspViolations: [] };
    page.on('request', (request) => watched.requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') {
        watched.consoleErrors.push(message.text());
      }
    });
    page.on('pageerror', (error) => watched.consoleErrors.push(`uncaught: ${error.message}`));
    return watched;
  }

  /** Reads the violations the current document recorded (the list starts again with each document). */
  async function collectViolations(watched: Watched): Promise<void> {
    const recorded = await watched.page.evaluate<string[] | undefined>('window.__cspViolations');
    // Undefined would mean the recorder never ran, and "no violations" would prove nothing.
    expect(recorded).toBeDefined();
    watched.cspViolations.push(...(recorded ?? []));
  }

  /** Nothing from another origin, no console error, no policy violation, on every document so far. */
  async function expectQuietPage(watched: Watched): Promise<void> {
    await collectViolations(watched);
    expect(watched.requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    // A page answered with 400 or 422 is reported by Chromium as a resource that "failed to load".
    const errors = watched.consoleErrors.filter(
      (text) => !/^Failed to load resource: the server responded with a status of (400|422)\b/.test(text),
    );
    expect(errors).toEqual([]);
    expect(watched.consoleErrors.filter((text) => /Content.Security.Policy/i.test(text))).toEqual([]);
    expect(watched.cspViolations).toEqual([]);
  }

  /** Waits for the `nth` mail with this subject to `address`. */
  async function mailTo(address: string, subject: string, nth = 1): Promise<ReceivedMail> {
    const deadline = Date.now() + MAIL_TIMEOUT_MS;
    for (;;) {
      const mails = smtp.mailsTo(address).filter((mail) => mail.subject === subject);
      if (mails.length >= nth) {
        return mails[nth - 1];
      }
      if (Date.now() > deadline) {
        throw new Error(`no mail "${subject}" number ${nth} to ${address} within ${MAIL_TIMEOUT_MS} ms`);
      }
      await sleep(50);
    }
  }

  /** POST /auth/password-reset and the link of the mail it sends. */
  async function requestReset(user: TestUser): Promise<string> {
    const before = smtp.mailsTo(user.email).filter((mail) => mail.subject === RESET_SUBJECT).length;
    await t.http().post('/auth/password-reset').send({ email: user.email }).expect(202);
    const link = linkIn(await mailTo(user.email, RESET_SUBJECT, before + 1), `${origin}/auth/password-reset`);
    expect(link).toMatch(new RegExp(`^${origin}/auth/password-reset\\?token=[A-Za-z0-9_-]{43,}$`));
    return link;
  }

  async function goTo(watched: Watched, link: string): Promise<Response> {
    const response = await watched.page.goto(link);
    if (!response) {
      throw new Error(`no response for ${link}`);
    }
    return response;
  }

  /** Fills both password fields, presses the button, and returns the answer to the form's POST. */
  async function submitNewPassword(watched: Watched, password: string, again = password): Promise<Response> {
    const { page } = watched;
    await page.getByLabel('New password', { exact: true }).fill(password);
    await page.getByLabel('The new password again').fill(again);
    // The answer, and the load of the document it makes (not the form's, which is loaded already).
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === 'POST'),
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'Set the new password' }).click(),
    ]);
    return answer;
  }

  /** How wide the document is, and how wide the window shows it. */
  function widths(page: Page): Promise<[number, number]> {
    return page.evaluate<[number, number]>('[document.documentElement.scrollWidth, window.innerWidth]');
  }

  async function outcomeText(page: Page): Promise<string> {
    return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
  }

  it('sets a new password from the link of the mail on a phone: readable, nothing from elsewhere, then the new password logs in', async () => {
    const user = await registerUser(t);
    const link = await requestReset(user);
    const watched = await openPhonePage();
    const { page } = watched;

    const form = await goTo(watched, link);

    expect(form.status()).toBe(200);
    await expect(page.locator('h1').innerText()).resolves.toBe('Choose a new password');
    await expect(page.getByLabel('New password', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(page.getByLabel('The new password again').isVisible()).resolves.toBe(true);
    // Laid out for the phone's width (the viewport meta works), with no sideways scrolling.
    const [scrollWidth, innerWidth] = await widths(page);
    expect(innerWidth).toBe(PHONE.viewport.width);
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    for (const control of [
      page.getByLabel('New password', { exact: true }),
      page.getByLabel('The new password again'),
      page.getByRole('button', { name: 'Set the new password' }),
    ]) {
      const box = await control.boundingBox();
      expect(box).not.toBeNull();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(innerWidth);
    }
    await expectQuietPage(watched);

    const newPassword = 'a new passphrase typed on a phone';
    const answer = await submitNewPassword(watched, newPassword);

    expect(answer.url()).toBe(`${origin}/auth/password-reset/page`);
    expect(answer.status()).toBe(200);
    await expect(outcomeText(page)).resolves.toContain('Your new password is set');
    await expectQuietPage(watched);
    await logIn(t, user.email, newPassword);
    await t.http().post('/login').type('form').send({ username: user.email, password: TEST_PASSWORD }).expect(401);
    // Every session ended with the reset.
    await t.http().get('/users/me').set(user.auth).expect(401);
  });

  it('says so when the two passwords differ, shows the form again with 422, and the link still works', async () => {
    const user = await registerUser(t);
    const link = await requestReset(user);
    const watched = await openPhonePage();
    const { page } = watched;
    expect((await goTo(watched, link)).status()).toBe(200);

    const refused = await submitNewPassword(watched, 'the first new passphrase', 'a second new passphrase');

    expect(refused.status()).toBe(422);
    await expect(outcomeText(page)).resolves.toContain('The two passwords are not the same');
    await expect(page.getByLabel('New password', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(page.getByLabel('The new password again').isVisible()).resolves.toBe(true);
    await expectQuietPage(watched);
    await logIn(t, user.email, TEST_PASSWORD);

    // The form shown again works as it is: the token was not spent by the refused try.
    const done = await submitNewPassword(watched, 'the first new passphrase');

    expect(done.status()).toBe(200);
    await expect(outcomeText(page)).resolves.toContain('Your new password is set');
    await expectQuietPage(watched);
    await logIn(t, user.email, 'the first new passphrase');
  });

  it('says in words that a used, replaced, bogus or missing link does not work (400), and changes nothing', async () => {
    const user = await registerUser(t);
    const watched = await openPhonePage();
    const { page } = watched;
    const expectBadLinkPage = async (response: Response) => {
      expect(response.status()).toBe(400);
      await expect(page.locator('h1').innerText()).resolves.toBe('This link does not work');
      await expect(outcomeText(page)).resolves.toContain('Your password was not changed');
      await expect(page.locator('input[type="password"]').count()).resolves.toBe(0);
    };

    // Used: the token was spent through the API.
    const used = await requestReset(user);
    await t
      .http()
      .post('/auth/password-reset/confirm')
      .send({ token: tokenOf(used), new_password: 'spent through the api' })
      .expect(204);
    await expectBadLinkPage(await goTo(watched, used));

    // Replaced: a newer request spends the older link.
    const older = await requestReset(user);
    const newer = await requestReset(user);
    await expectBadLinkPage(await goTo(watched, older));
    expect((await goTo(watched, newer)).status()).toBe(200);

    // Spent in another tab while this form was open: the submit says the link does not work.
    await t
      .http()
      .post('/auth/password-reset/confirm')
      .send({ token: tokenOf(newer), new_password: 'spent in another tab' })
      .expect(204);
    await expectBadLinkPage(await submitNewPassword(watched, 'too late for this one'));

    // Bogus and missing tokens.
    await expectBadLinkPage(await goTo(watched, `${origin}/auth/password-reset?token=${'A'.repeat(43)}`));
    await expectBadLinkPage(await goTo(watched, `${origin}/auth/password-reset`));
    const bogusVerification = await goTo(watched, `${origin}/auth/verify-email?token=not-a-token`);
    expect(bogusVerification.status()).toBe(400);
    await expect(page.locator('h1').innerText()).resolves.toBe('This link does not work');
    await expect(outcomeText(page)).resolves.toContain('was not confirmed');

    await expectQuietPage(watched);
    await logIn(t, user.email, 'spent in another tab');
  });

  it('confirms the address from the link of the registration mail, once', async () => {
    const user = await registerUser(t);
    const link = linkIn(await mailTo(user.email, VERIFICATION_SUBJECT), `${origin}/auth/verify-email`);
    expect(link).toMatch(new RegExp(`^${origin}/auth/verify-email\\?token=[A-Za-z0-9_-]{43,}$`));
    expect((await t.http().get('/users/me').set(user.auth).expect(200)).body.email_verified).toBe(false);
    const watched = await openPhonePage();
    const { page } = watched;

    const confirmed = await goTo(watched, link);

    expect(confirmed.status()).toBe(200);
    await expect(page.locator('h1').innerText()).resolves.toBe('E-mail address confirmed');
    await expect(outcomeText(page)).resolves.toContain('Your e-mail address is confirmed');
    const [scrollWidth, innerWidth] = await widths(page);
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    await expectQuietPage(watched);
    expect((await t.http().get('/users/me').set(user.auth).expect(200)).body.email_verified).toBe(true);

    // The same link a second time: spent.
    const again = await goTo(watched, link);
    expect(again.status()).toBe(400);
    await expect(page.locator('h1').innerText()).resolves.toBe('This link does not work');
    await expectQuietPage(watched);
    expect((await t.http().get('/users/me').set(user.auth).expect(200)).body.email_verified).toBe(true);
  });

  it('answers every page as HTML under a strict policy, never cached, sending no referrer, referring to no other origin', async () => {
    const user = await registerUser(t);
    const token = tokenOf(await requestReset(user));
    const pages = [
      { name: 'the reset form', response: await t.http().get(`/auth/password-reset?token=${token}`), status: 200 },
      { name: 'a bad reset link', response: await t.http().get('/auth/password-reset?token=bogus'), status: 400 },
      {
        name: 'the form again',
        response: await t
          .http()
          .post('/auth/password-reset/page')
          .type('form')
          .send({ token, new_password: 'one new passphrase', new_password_again: 'another passphrase' }),
        status: 422,
      },
      {
        name: 'the reset done',
        response: await t
          .http()
          .post('/auth/password-reset/page')
          .type('form')
          .send({ token, new_password: 'one new passphrase', new_password_again: 'one new passphrase' }),
        status: 200,
      },
      {
        name: 'a spent token posted',
        response: await t
          .http()
          .post('/auth/password-reset/page')
          .type('form')
          .send({ token, new_password: 'one new passphrase', new_password_again: 'one new passphrase' }),
        status: 400,
      },
      { name: 'a bad verification link', response: await t.http().get('/auth/verify-email?token=bogus'), status: 400 },
    ];
    const verification = tokenOf(linkIn(await mailTo(user.email, VERIFICATION_SUBJECT), `${origin}/auth/verify-email`));
    pages.push({
      name: 'the address confirmed',
      response: await t.http().get(`/auth/verify-email?token=${verification}`),
      status: 200,
    });

    for (const { name, response, status } of pages) {
      const policy = String(response.headers['content-security-policy'] ?? '');
      const html = response.text;
      expect({ name, status: response.status }).toEqual({ name, status });
      expect({ name, type: response.headers['content-type'] }).toEqual({
        name,
        type: expect.stringMatching(/^text\/html\b/),
      });
      expect({ name, policy }).toEqual({ name, policy: expect.stringContaining("default-src 'none'") });
      expect({ name, policy }).toEqual({ name, policy: expect.not.stringMatching(/'unsafe-(inline|eval)'|\*/) });
      expect({ name, cache: response.headers['cache-control'] }).toEqual({
        name,
        cache: expect.stringContaining('no-store'),
      });
      expect({ name, referrer: response.headers['referrer-policy'] }).toEqual({ name, referrer: 'no-referrer' });
      expect({ name, html }).toEqual({ name, html: expect.stringMatching(/^<!doctype html>/i) });
      // No address of another origin in any attribute, and no script at all.
      expect({ name, foreign: html.match(/\b(src|href|action)\s*=\s*["']?\s*(https?:)?\/\//gi) }).toEqual({
        name,
        foreign: null,
      });
      expect({ name, scripts: /<script/i.test(html) }).toEqual({ name, scripts: false });
    }
  });

  it('never writes the token of a link into a log line, while the requests of the page are logged', async () => {
    const user = await registerUser(t);
    const link = await requestReset(user);
    const token = tokenOf(link);
    const watched = await openPhonePage();

    expect((await goTo(watched, link)).status()).toBe(200);
    expect((await submitNewPassword(watched, 'a passphrase nobody logs')).status()).toBe(200);

    // A request's line is written once its response has finished: wait for both.
    const requestLines = async () => {
      for (let attempt = 0; attempt < 100; attempt += 1) {
        const records = capture
          .lines()
          .map((line) => JSON.parse(line) as Record<string, any>)
          .filter((record) => record.status !== undefined && String(record.route).startsWith('/auth/password-reset'));
        const opened = records.find((record) => record.method === 'GET' && record.route === '/auth/password-reset');
        const submitted = records.find(
          (record) => record.method === 'POST' && record.route === '/auth/password-reset/page' && record.status === 200,
        );
        if (opened && submitted) {
          return { opened, submitted };
        }
        await sleep(50);
      }
      throw new Error('the requests of the reset page were not logged');
    };
    const { opened, submitted } = await requestLines();
    expect(opened).toEqual(expect.objectContaining({ status: 200, url: '/auth/password-reset?token=[redacted]' }));
    expect(submitted).toEqual(expect.objectContaining({ url: '/auth/password-reset/page' }));

    // This token, and the token of every other link mailed in this file, in no line at all.
    const tokens = [
      token,
      ...smtp.received.flatMap((mail) =>
        mail.text
          .split(/\s+/)
          .filter((word) => word.startsWith(`${origin}/auth/`))
          .map(tokenOf),
      ),
    ];
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const lines = capture.lines();
    for (const secret of new Set(tokens)) {
      expect({ secret, lines: lines.filter((line) => line.includes(secret)) }).toEqual({ secret, lines: [] });
    }
  });
});

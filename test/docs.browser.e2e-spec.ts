import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { createTestApp, registerUser, TestApp, TestUser } from './support/test-app';

/**
 * Debian's Chromium (`apt-get install -y chromium`). `.ci/run` installs it and sets
 * TEST_CHROMIUM, and then this test must run; elsewhere it is skipped when missing.
 */
const CHROMIUM = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_REQUIRED = Boolean(process.env.TEST_CHROMIUM);
const SCREENSHOT = join(__dirname, 'artifacts', 'docs.png');
const STEP_TIMEOUT_MS = 15_000;

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !CHROMIUM_REQUIRED) {
  console.warn(
    `Skipping the browser test of /docs and /redoc: no Chromium at ${CHROMIUM}. ` +
      'Install it with `apt-get install -y chromium` (or set TEST_CHROMIUM to its path) to run it.',
  );
}
const describeInBrowser = haveChromium || CHROMIUM_REQUIRED ? describe : describe.skip;

/** Every response the page received, to prove that nothing came from another origin. */
function recordResponses(page: Page): string[] {
  const urls: string[] = [];
  page.on('response', (response) => urls.push(response.url()));
  return urls;
}

function foreign(urls: string[], origin: string): string[] {
  return urls.filter((url) => new URL(url).origin !== origin && !url.startsWith('blob:') && !url.startsWith('data:'));
}

/** Opens GET /users/me, presses "Try it out" and "Execute", and returns the answer shown. */
async function runUsersMe(page: Page): Promise<{ status: string; body: unknown }> {
  const operation = page.locator('#operations-users-users_me');
  // Deep linking puts the open operation in the address (#/users/users_me): a reload opens it again.
  if (new URL(page.url()).hash === '#/users/users_me') {
    await page.locator('#operations-users-users_me.is-open').waitFor();
  } else {
    await operation.locator('.opblock-summary').first().click();
  }
  await operation.getByRole('button', { name: 'Try it out' }).click();
  await operation.getByRole('button', { name: 'Execute' }).click();
  const answer: Locator = operation.locator('.live-responses-table tbody tr.response').first();
  await answer.waitFor();
  const status = (await answer.locator('.response-col_status').innerText()).trim();
  const body = await answer.locator('.response-col_description pre').first().innerText();
  return { status, body: JSON.parse(body) as unknown };
}

describeInBrowser('the docs in a real browser (Chromium)', () => {
  let t: TestApp;
  let user: TestUser;
  let origin: string;
  let userDataDir: string;
  let browser: BrowserContext;
  let page: Page;
  const logins: string[] = [];

  beforeAll(async () => {
    if (!haveChromium) {
      throw new Error(`TEST_CHROMIUM is set but there is no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
    }
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    origin = new URL(await t.app.getUrl()).origin;
    user = await registerUser(t);
    userDataDir = mkdtempSync(join(tmpdir(), 'posts-api-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      timeout: 30_000,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/login') {
        logins.push(request.url());
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) {
      rmSync(userDataDir, { recursive: true, force: true });
    }
    await t?.close();
  });

  it('logs in through "Authorize" with e-mail and password, and "Try it out" on GET /users/me shows the account', async () => {
    const responses = recordResponses(page);
    await page.goto(`${origin}/docs`);

    await page.locator('.auth-wrapper button.authorize').click();
    const dialog = page.locator('.modal-ux');
    await expect(dialog.locator('code', { hasText: '/login' }).count()).resolves.toBe(1);
    await dialog.locator('#oauth_username').fill(user.email);
    await dialog.locator('#oauth_password').fill(user.password);
    await dialog.getByRole('button', { name: 'Apply given OAuth2 credentials' }).click();
    await dialog.locator('button', { hasText: 'Logout' }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();

    const answer = await runUsersMe(page);

    expect(answer).toEqual({
      status: '200',
      body: {
        id: user.id,
        username: null,
        email: user.email,
        created_at: expect.any(String),
        role: 'user',
        email_verified: false,
      },
    });
    expect(logins).toHaveLength(1);
    expect(foreign(responses, origin)).toEqual([]);
  });

  it('keeps the login across a reload: GET /users/me works again without logging in', async () => {
    await page.reload();

    await page.locator('.auth-wrapper button.authorize.locked').waitFor();
    const answer = await runUsersMe(page);

    expect(answer).toEqual({
      status: '200',
      body: {
        id: user.id,
        username: null,
        email: user.email,
        created_at: expect.any(String),
        role: 'user',
        email_verified: false,
      },
    });
    expect(logins).toHaveLength(1);
    // From the top of the page (the "Authorize" button, now locked) down to the answer shown.
    const bottom = await page
      .locator('#operations-users-users_me .live-responses-table')
      .evaluate(
        (table) => table.getBoundingClientRect().bottom + (globalThis as unknown as { scrollY: number }).scrollY,
      );
    mkdirSync(join(__dirname, 'artifacts'), { recursive: true });
    await page.screenshot({
      path: SCREENSHOT,
      fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: Math.ceil(bottom) + 16 },
    });
  });

  it('renders every operation on /redoc from this origin alone', async () => {
    const redoc = await browser.newPage();
    redoc.setDefaultTimeout(STEP_TIMEOUT_MS);
    const responses = recordResponses(redoc);
    try {
      await redoc.goto(`${origin}/redoc`);

      await redoc.locator('[data-section-id="operation/users_me"]').waitFor();
      const headings = await redoc.locator('h2').allInnerTexts();
      expect(headings).toEqual(
        expect.arrayContaining(['Register an account', 'Log in with e-mail and password (OAuth2 password grant)']),
      );
      const operationIds = await redoc
        .locator('[data-section-id^="operation/"]')
        .evaluateAll((sections) => sections.map((section) => section.getAttribute('data-section-id')));
      const document = (await t.http().get('/openapi.json')).body as {
        paths: Record<string, Record<string, { operationId: string }>>;
      };
      const documented = Object.values(document.paths).flatMap((item) =>
        Object.values(item).map((operation) => `operation/${operation.operationId}`),
      );
      expect([...new Set(operationIds)].sort()).toEqual(documented.sort());
      expect(foreign(responses, origin)).toEqual([]);
    } finally {
      await redoc.close();
    }
  });
});

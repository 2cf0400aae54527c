import { createHash, randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { logCapture } from './support/raw-http';
import { linkIn, TestSmtpServer, tokenOf } from './support/smtp';
import {
  createTestApp,
  expectProblem,
  logIn,
  snapshotTables,
  TestApp,
  TestSession,
  TEST_PASSWORD,
} from './support/test-app';

/**
 * The accounts contract (API.md, "Accounts: usernames, e-mail verification, password
 * reset" and "Mail"), end to end: the real app, a real SMTP server (test/support/smtp.ts)
 * that receives every mail, and the tokens taken from the links of those mails.
 */

const PUBLIC_URL = 'http://posts.test';
const VERIFY_LINK = `${PUBLIC_URL}/auth/verify-email?token=`;
const RESET_LINK = `${PUBLIC_URL}/auth/password-reset?token=`;
const NEW_PASSWORD = 'a brand new password for the reset';
const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const LARGEST_INT4 = 2_147_483_647;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

let counter = 0;

/** An address no other test of this file uses. */
function uniqueEmail(prefix = 'acct'): string {
  counter += 1;
  return `${prefix}${counter}-${randomBytes(3).toString('hex')}@example.com`;
}

/** A valid username no other test of this file uses (at most 30 characters for a prefix of up to 12). */
function uniqueUsername(prefix = 'u'): string {
  counter += 1;
  return `${prefix}_${counter}_${randomBytes(3).toString('hex')}`;
}

/** Polls `probe` until it gives a value (not a timed assertion: the deadline only ends a hang). */
async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}

/** The answer is a 422 or 409 whose `errors` name exactly these fields, one entry each. */
function expectFieldErrors(response: Response, status: number, fields: string[]): void {
  expectProblem(response, status);
  const errors = [...(response.body.errors as { field: string; message: string }[])].sort((a, b) =>
    a.field.localeCompare(b.field),
  );
  expect(errors).toEqual([...fields].sort().map((field) => ({ field, message: expect.any(String) })));
  for (const error of errors) {
    expect(error.message.length).toBeGreaterThan(0);
  }
}

function expectTooManyRequests(response: Response): void {
  expectProblem(response, 429);
  const retryAfter = Number(response.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(3600);
}

interface Account extends TestSession {
  id: number;
  email: string;
  username: string | null;
}

/** Registers through the API (with a username when given) and logs in with the e-mail. */
async function createAccount(app: TestApp, options: { email?: string; username?: string } = {}): Promise<Account> {
  const email = options.email ?? uniqueEmail();
  const body = {
    email,
    password: TEST_PASSWORD,
    ...(options.username === undefined ? {} : { username: options.username }),
  };
  const created = await app.http().post('/users').send(body);
  expect(created.status).toBe(201);
  return {
    id: created.body.id,
    email: created.body.email,
    username: created.body.username,
    ...(await logIn(app, email)),
  };
}

async function countRows(app: TestApp, table: 'users' | 'account_tokens' | 'mail_outbox'): Promise<number> {
  const { rows } = await app.db.query<{ count: string }>(`SELECT count(*) AS count FROM ${table}`);
  return Number(rows[0].count);
}

/** Every table a refused registration or change must leave as it was (the outbox by its row count: the worker updates rows). */
async function snapshotAccounts(app: TestApp) {
  return {
    tables: await snapshotTables(app.db),
    tokens: (await app.db.query('SELECT * FROM account_tokens ORDER BY id')).rows,
    mails: await countRows(app, 'mail_outbox'),
  };
}

async function outboxRowsTo(app: TestApp, address: string): Promise<number> {
  const { rows } = await app.db.query<{ count: string }>(
    'SELECT count(*) AS count FROM mail_outbox WHERE lower(recipient) = lower($1)',
    [address],
  );
  return Number(rows[0].count);
}

// First in the file: nestjs-pino keeps the root logger of the first app a file creates, and the
// mail worker logs outside any request, so only the first app's log capture sees its lines.
describe('Mail without SMTP_URL (NODE_ENV=test)', () => {
  const capture = logCapture();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(
      { LOG_LEVEL: 'info', LOG_FORMAT: 'json', PUBLIC_URL, MAIL_POLL_INTERVAL_MS: '100' },
      { logDestination: capture.stream },
    );
  });

  afterAll(async () => {
    await t.close();
  });

  it('writes the verification mail to the log, its working link included', async () => {
    const email = uniqueEmail('logged');
    await t.http().post('/users').send({ email, password: TEST_PASSWORD }).expect(201);
    const link = /http:\/\/posts\.test\/auth\/verify-email\?token=([A-Za-z0-9_-]+)/;
    const line = await waitFor('the log line of the verification mail', () =>
      capture.lines().find((candidate) => candidate.includes(email) && link.test(candidate)),
    );
    const token = (link.exec(line) as RegExpExecArray)[1];
    expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(32);
    // The logged link is the real one: it verifies the address.
    await t.http().post('/auth/verify-email').send({ token }).expect(204);
    const session = await logIn(t, email);
    const me = await t.http().get('/users/me').set(session.auth).expect(200);
    expect(me.body.email_verified).toBe(true);
  });
});

describe('Accounts', () => {
  let smtp: TestSmtpServer;

  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
  });

  afterAll(async () => {
    await smtp.stop();
  });

  /** The links starting with `prefix` in the mails to `address`, oldest first, once there are `count` of them. */
  function linksTo(address: string, prefix: string, count = 1): Promise<string[]> {
    return waitFor(`${count} mail(s) to ${address} with a link ${prefix}...`, () => {
      const links = smtp
        .mailsTo(address)
        .filter((mail) => mail.text.includes(prefix))
        .map((mail) => linkIn(mail, prefix));
      return links.length >= count ? links : undefined;
    });
  }

  /** The token of the newest of `count` verification mails to the address. */
  async function verificationToken(address: string, count = 1): Promise<string> {
    const links = await linksTo(address, VERIFY_LINK, count);
    return tokenOf(links[count - 1]);
  }

  async function resetToken(address: string, count = 1): Promise<string> {
    const links = await linksTo(address, RESET_LINK, count);
    return tokenOf(links[count - 1]);
  }

  describe('with SMTP', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await createTestApp({ SMTP_URL: smtp.url, PUBLIC_URL, MAIL_POLL_INTERVAL_MS: '100' });
    });

    afterAll(async () => {
      await t.close();
    });

    const register = (body: object) => t.http().post('/users').send(body);
    const me = (auth: { Authorization: string }) => t.http().get('/users/me').set(auth);
    const patchMe = (auth: { Authorization: string }, body: object) => t.http().patch('/users/me').set(auth).send(body);
    const login = (username: string, password = TEST_PASSWORD) =>
      t.http().post('/login').type('form').send({ username, password });
    const verify = (token: string) => t.http().post('/auth/verify-email').send({ token });
    const resend = (auth: { Authorization: string }) => t.http().post('/auth/verify-email/resend').set(auth);
    const requestReset = (email: string) => t.http().post('/auth/password-reset').send({ email });
    const confirmReset = (token: string, newPassword = NEW_PASSWORD) =>
      t.http().post('/auth/password-reset/confirm').send({ token, new_password: newPassword });

    async function verifyAccount(account: Account): Promise<void> {
      await verify(await verificationToken(account.email)).expect(204);
    }

    describe('POST /users with a username', () => {
      it('answers 201 with {id, username, email, created_at} and stores the username lower-case', async () => {
        const username = `Alice_${counter + 1}${randomBytes(2).toString('hex')}`;
        const email = uniqueEmail('alice');
        const response = await register({ email, username, password: TEST_PASSWORD });
        expect(response.status).toBe(201);
        expect(response.headers.location).toBe(`/users/${response.body.id}`);
        expect(response.body).toEqual({
          id: expect.any(Number),
          username: username.toLowerCase(),
          email,
          created_at: expect.stringMatching(ISO_TIMESTAMP),
        });
        const { rows } = await t.db.query('SELECT username FROM users WHERE id = $1', [response.body.id]);
        expect(rows).toEqual([{ username: username.toLowerCase() }]);
      });

      it('turns "Alice_1" into "alice_1"', async () => {
        const response = await register({ email: uniqueEmail(), username: 'Alice_1', password: TEST_PASSWORD });
        expect(response.status).toBe(201);
        expect(response.body.username).toBe('alice_1');
      });

      it('makes the username optional: without one it is null', async () => {
        const email = uniqueEmail('nohandle');
        const response = await register({ email, password: TEST_PASSWORD });
        expect(response.status).toBe(201);
        expect(response.body).toEqual({
          id: expect.any(Number),
          username: null,
          email,
          created_at: expect.stringMatching(ISO_TIMESTAMP),
        });
      });

      it.each([
        { name: '3 characters', username: 'q_7' },
        { name: '30 characters', username: `L${randomBytes(16).toString('hex').slice(0, 29)}` },
      ])('accepts a username of $name', async ({ username }) => {
        const response = await register({ email: uniqueEmail(), username, password: TEST_PASSWORD });
        expect(response.status).toBe(201);
        expect(response.body.username).toBe(username.toLowerCase());
      });

      it('answers 409 naming email when the e-mail is taken, and writes nothing', async () => {
        const taken = await createAccount(t);
        const before = await snapshotAccounts(t);
        const response = await register({
          email: taken.email.toUpperCase(),
          username: uniqueUsername(),
          password: TEST_PASSWORD,
        });
        expectFieldErrors(response, 409, ['email']);
        expect(await snapshotAccounts(t)).toEqual(before);
      });

      it('answers 409 naming username when the username is taken in another case, and writes nothing', async () => {
        const username = uniqueUsername('taken');
        await createAccount(t, { username });
        const before = await snapshotAccounts(t);
        const response = await register({
          email: uniqueEmail(),
          username: username.toUpperCase(),
          password: TEST_PASSWORD,
        });
        expectFieldErrors(response, 409, ['username']);
        expect(await snapshotAccounts(t)).toEqual(before);
      });

      it('answers 409 naming both fields when both are taken', async () => {
        const username = uniqueUsername('both');
        const taken = await createAccount(t, { username });
        const before = await snapshotAccounts(t);
        const response = await register({ email: taken.email, username, password: TEST_PASSWORD });
        expectFieldErrors(response, 409, ['email', 'username']);
        expect(await snapshotAccounts(t)).toEqual(before);
      });

      it('names both fields when they are taken by two different accounts', async () => {
        const byEmail = await createAccount(t);
        const username = uniqueUsername('other');
        await createAccount(t, { username });
        const response = await register({ email: byEmail.email, username, password: TEST_PASSWORD });
        expectFieldErrors(response, 409, ['email', 'username']);
      });

      it.each([
        { name: 'too short (2 characters)', username: 'ab' },
        { name: 'too long (31 characters)', username: `a${'b'.repeat(30)}` },
        { name: 'starting with a digit', username: '1alice' },
        { name: 'starting with an underscore', username: '_alice' },
        { name: "with a '-'", username: 'al-ice' },
        { name: 'with a space', username: 'al ice' },
        { name: 'with a leading space', username: ' alice' },
        { name: 'non-ASCII (å)', username: 'ålice' },
        { name: 'with a full-width letter', username: '\uff41lice' },
        { name: 'with U+200B (zero-width space)', username: 'ali\u200bce' },
        { name: 'with U+202E (right-to-left override)', username: 'ali\u202Ece' },
        { name: 'an empty string', username: '' },
        { name: 'a number', username: 12345 },
      ])('refuses a username $name with 422 naming username, and writes nothing', async ({ username }) => {
        const before = await snapshotAccounts(t);
        const response = await register({ email: uniqueEmail('badname'), username, password: TEST_PASSWORD });
        expectFieldErrors(response, 422, ['username']);
        expect(await snapshotAccounts(t)).toEqual(before);
      });

      it('gives exactly one 201 and otherwise 409 to 50 parallel registrations of one username', async () => {
        const username = uniqueUsername('race');
        const emails = Array.from({ length: 50 }, () => uniqueEmail('racer'));
        const responses = await Promise.all(
          emails.map((email, index) =>
            register({ email, username: index % 2 ? username.toUpperCase() : username, password: TEST_PASSWORD }),
          ),
        );
        const winners = responses.filter((response) => response.status === 201);
        expect(winners).toHaveLength(1);
        const losers = responses.filter((response) => response.status !== 201);
        expect(losers).toHaveLength(49);
        for (const loser of losers) {
          expectFieldErrors(loser, 409, ['username']);
        }
        const { rows } = await t.db.query('SELECT id, email FROM users WHERE username = $1', [username]);
        expect(rows).toEqual([{ id: winners[0].body.id, email: winners[0].body.email }]);
        // Only the winner's registration left an account and a mail behind.
        const losingEmails = emails.filter((email) => email !== winners[0].body.email);
        const { rows: strays } = await t.db.query(
          'SELECT (SELECT count(*) FROM users WHERE email = ANY($1)) + (SELECT count(*) FROM mail_outbox WHERE recipient = ANY($1)) AS count',
          [losingEmails],
        );
        expect(Number(strays[0].count)).toBe(0);

        const reader = await createAccount(t);
        const found = await t.http().get(`/users/${username}`).set(reader.auth).expect(200);
        expect(found.body).toEqual({
          id: winners[0].body.id,
          username,
          email: winners[0].body.email,
          created_at: winners[0].body.created_at,
        });
      });
    });

    describe('POST /login with a username', () => {
      it('logs in with the username in any case as a form, and the token is the account', async () => {
        const username = uniqueUsername('form');
        const account = await createAccount(t, { username });
        const response = await login(username.toUpperCase());
        expect(response.status).toBe(200);
        expect(response.body.token_type).toBe('bearer');
        const who = await me({ Authorization: `Bearer ${response.body.access_token}` }).expect(200);
        expect(who.body.id).toBe(account.id);
      });

      it('logs in with the username as JSON', async () => {
        const username = uniqueUsername('json');
        const account = await createAccount(t, { username });
        const response = await t
          .http()
          .post('/login')
          .send({ username: ` ${username.charAt(0).toUpperCase()}${username.slice(1)} `, password: TEST_PASSWORD });
        expect(response.status).toBe(200);
        const who = await me({ Authorization: `Bearer ${response.body.access_token}` }).expect(200);
        expect(who.body.id).toBe(account.id);
      });

      it('still logs in with the e-mail of an account that has a username', async () => {
        const account = await createAccount(t, { username: uniqueUsername('mail') });
        const response = await login(account.email.toUpperCase());
        expect(response.status).toBe(200);
        const who = await me({ Authorization: `Bearer ${response.body.access_token}` }).expect(200);
        expect(who.body.id).toBe(account.id);
      });

      it('answers a wrong password with a username 401 "Invalid credentials", as for an unknown username', async () => {
        const username = uniqueUsername('wrong');
        await createAccount(t, { username });
        const wrong = await login(username, 'not the password at all');
        expectProblem(wrong, 401);
        expect(wrong.body.detail).toBe('Invalid credentials');
        const unknown = await login(uniqueUsername('nobody'), 'not the password at all');
        expectProblem(unknown, 401);
        expect(unknown.body.detail).toBe(wrong.body.detail);
        expect(unknown.body.title).toBe(wrong.body.title);
      });
    });

    describe('GET /users/{id or username}', () => {
      it('answers 200 with the User of a username given in any case', async () => {
        const username = uniqueUsername('find');
        const account = await createAccount(t, { username });
        const reader = await createAccount(t);
        const { rows } = await t.db.query('SELECT created_at FROM users WHERE id = $1', [account.id]);
        const response = await t.http().get(`/users/${username.toUpperCase()}`).set(reader.auth);
        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          id: account.id,
          username,
          email: account.email,
          created_at: (rows[0].created_at as Date).toISOString(),
        });
      });

      it('answers 404 problem+json for a username no user has', async () => {
        const reader = await createAccount(t);
        expectProblem(
          await t
            .http()
            .get(`/users/${uniqueUsername('ghost')}`)
            .set(reader.auth),
          404,
        );
      });

      it('still answers an id with the User', async () => {
        const username = uniqueUsername('byid');
        const account = await createAccount(t, { username });
        const reader = await createAccount(t);
        const response = await t.http().get(`/users/${account.id}`).set(reader.auth).expect(200);
        expect(response.body).toMatchObject({ id: account.id, username, email: account.email });
        expect(Object.keys(response.body as object).sort()).toEqual(['created_at', 'email', 'id', 'username']);
      });

      it.each(['0', String(LARGEST_INT4 + 1), '99999999999'])('answers 422 naming id for %s', async (id) => {
        const reader = await createAccount(t);
        expectFieldErrors(await t.http().get(`/users/${id}`).set(reader.auth), 422, ['id']);
      });
    });

    describe('Me: GET and PATCH /users/me', () => {
      it('GET /users/me answers Me = User + role "user" + email_verified false after registration', async () => {
        const username = uniqueUsername('me');
        const account = await createAccount(t, { username });
        const response = await me(account.auth).expect(200);
        expect(response.body).toEqual({
          id: account.id,
          username,
          email: account.email,
          created_at: expect.stringMatching(ISO_TIMESTAMP),
          role: 'user',
          email_verified: false,
        });
      });

      it('PATCH /users/me sets a username (lower-case) and answers 200 Me; the new name finds and logs in', async () => {
        const account = await createAccount(t);
        const username = uniqueUsername('Set');
        const response = await patchMe(account.auth, { username });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          id: account.id,
          username: username.toLowerCase(),
          email: account.email,
          created_at: expect.stringMatching(ISO_TIMESTAMP),
          role: 'user',
          email_verified: false,
        });
        expect((await me(account.auth).expect(200)).body.username).toBe(username.toLowerCase());
        await t.http().get(`/users/${username}`).set(account.auth).expect(200);
        await login(username).expect(200);
      });

      it('answers 409 naming username when the username is taken, and changes nothing', async () => {
        const username = uniqueUsername('held');
        await createAccount(t, { username });
        const account = await createAccount(t, { username: uniqueUsername('mine') });
        const before = await snapshotAccounts(t);
        const response = await patchMe(account.auth, { username: username.toUpperCase() });
        expectFieldErrors(response, 409, ['username']);
        expect(await snapshotAccounts(t)).toEqual(before);
        expect((await me(account.auth).expect(200)).body.username).toBe(account.username);
      });

      it('answers 422 naming current_password to an e-mail change without it, and changes nothing', async () => {
        const account = await createAccount(t);
        const before = await snapshotAccounts(t);
        const response = await patchMe(account.auth, { email: uniqueEmail('newaddr') });
        expectFieldErrors(response, 422, ['current_password']);
        expect(await snapshotAccounts(t)).toEqual(before);
      });

      it('answers 403 to an e-mail change with a wrong current_password, and changes nothing', async () => {
        const account = await createAccount(t);
        const before = await snapshotAccounts(t);
        const response = await patchMe(account.auth, {
          email: uniqueEmail('newaddr'),
          current_password: 'not the current password',
        });
        expectProblem(response, 403);
        expect(await snapshotAccounts(t)).toEqual(before);
      });

      it('changes a verified e-mail with the right password: 200, unverified, a mail to the new address, new login', async () => {
        const account = await createAccount(t);
        await verifyAccount(account);
        expect((await me(account.auth).expect(200)).body.email_verified).toBe(true);

        const newEmail = uniqueEmail('moved');
        const response = await patchMe(account.auth, {
          email: `  ${newEmail.toUpperCase()} `,
          current_password: TEST_PASSWORD,
        });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          id: account.id,
          username: null,
          email: newEmail,
          created_at: expect.stringMatching(ISO_TIMESTAMP),
          role: 'user',
          email_verified: false,
        });
        expect((await me(account.auth).expect(200)).body).toMatchObject({ email: newEmail, email_verified: false });

        const token = await verificationToken(newEmail);
        await login(newEmail).expect(200);
        expectProblem(await login(account.email), 401);
        await verify(token).expect(204);
        expect((await me(account.auth).expect(200)).body.email_verified).toBe(true);
      });

      it('changing the e-mail spends the links sent to the old address (verification and password reset)', async () => {
        const account = await createAccount(t);
        const oldVerification = await verificationToken(account.email);
        await requestReset(account.email).expect(202);
        const oldReset = await resetToken(account.email);
        const { rows } = await t.db.query(
          'SELECT purpose FROM account_tokens WHERE user_id = $1 AND used_at IS NULL ORDER BY purpose',
          [account.id],
        );
        expect(rows).toEqual([{ purpose: 'email_verification' }, { purpose: 'password_reset' }]);

        const newEmail = uniqueEmail('elsewhere');
        await patchMe(account.auth, { email: newEmail, current_password: TEST_PASSWORD }).expect(200);
        await verificationToken(newEmail);
        expectProblem(await verify(oldVerification), 400);
        expectProblem(await confirmReset(oldReset), 400);
        expectProblem(await login(account.email), 401);
        await login(newEmail).expect(200);
      });

      it("answers 409 naming email when the new e-mail is another account's (any case), and changes nothing", async () => {
        const other = await createAccount(t);
        const account = await createAccount(t);
        const before = await snapshotAccounts(t);
        const response = await patchMe(account.auth, {
          email: other.email.toUpperCase(),
          current_password: TEST_PASSWORD,
        });
        expectFieldErrors(response, 409, ['email']);
        expect(await snapshotAccounts(t)).toEqual(before);
        expect((await me(account.auth).expect(200)).body.email).toBe(account.email);
      });

      it('sends no password-reset mail to the address an account has left', async () => {
        const account = await createAccount(t);
        const newEmail = uniqueEmail('left');
        await patchMe(account.auth, { email: newEmail, current_password: TEST_PASSWORD }).expect(200);
        await verificationToken(newEmail);
        // The old address first: once the new one's reset mail is here, the old one has had its turn.
        await requestReset(account.email).expect(202);
        await requestReset(newEmail).expect(202);
        await resetToken(newEmail);
        expect(smtp.mailsTo(account.email).filter((mail) => mail.text.includes(RESET_LINK))).toEqual([]);
        expect(await outboxRowsTo(t, account.email)).toBe(1);
      });

      it.each([
        { field: 'role', value: 'admin' },
        { field: 'email_verified', value: true },
        { field: 'id', value: 1 },
        { field: 'password', value: 'another password' },
      ])('answers 422 naming the unknown field $field, and changes nothing', async ({ field, value }) => {
        const account = await createAccount(t);
        const before = await snapshotAccounts(t);
        const response = await patchMe(account.auth, { [field]: value });
        expectFieldErrors(response, 422, [field]);
        expect(await snapshotAccounts(t)).toEqual(before);
        expect((await me(account.auth).expect(200)).body).toMatchObject({ role: 'user', email_verified: false });
      });

      it('takes the same e-mail in any case without a password, sends no mail and keeps it verified', async () => {
        const account = await createAccount(t);
        await verifyAccount(account);
        const mailsBefore = smtp.mailsTo(account.email).length;
        const outboxBefore = await outboxRowsTo(t, account.email);
        const response = await patchMe(account.auth, { email: account.email.toUpperCase() });
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ id: account.id, email: account.email, email_verified: true });
        expect(await outboxRowsTo(t, account.email)).toBe(outboxBefore);
        // The outbox says no mail was written; wait a moment in case one was sent some other way.
        await sleep(1_000);
        expect(smtp.mailsTo(account.email)).toHaveLength(mailsBefore);
      });
    });

    describe('E-mail verification', () => {
      it('mails the address at registration: a subject, a text part with the link and what to do, an HTML part with the link', async () => {
        const email = uniqueEmail('welcome');
        await register({ email, password: TEST_PASSWORD }).expect(201);
        const [mail] = await smtp.waitForMails(email);
        expect(mail.to).toBe(email);
        expect(mail.subject).toMatch(/\S/);
        const link = linkIn(mail, VERIFY_LINK);
        expect(link).toMatch(/^http:\/\/posts\.test\/auth\/verify-email\?token=[A-Za-z0-9_-]{43,}$/);
        expect(Buffer.from(tokenOf(link), 'base64url').length).toBeGreaterThanOrEqual(32);
        expect(mail.text).toMatch(/open this link|click|confirm/i);
        expect(mail.text.replace(link, '').trim().length).toBeGreaterThan(40);
        expect(mail.html).toContain(link);
        expect(mail.html).toMatch(/<a [^>]*href="http:\/\/posts\.test\/auth\/verify-email\?token=/);
      });

      it('POST /auth/verify-email answers 204 and the account is verified; the same token again is 400', async () => {
        const account = await createAccount(t);
        const token = await verificationToken(account.email);
        const response = await verify(token);
        expect(response.status).toBe(204);
        expect(response.text).toBe('');
        expect((await me(account.auth).expect(200)).body.email_verified).toBe(true);
        expectProblem(await verify(token), 400);
        expect((await me(account.auth).expect(200)).body.email_verified).toBe(true);
      });

      it('answers 400 problem+json to an unknown token', async () => {
        expectProblem(await verify(randomBytes(32).toString('base64url')), 400);
      });

      it('answers 400 to an expired token and leaves the address unverified', async () => {
        const account = await createAccount(t);
        const token = await verificationToken(account.email);
        await t.db.query(`UPDATE account_tokens SET expires_at = now() - interval '1 minute' WHERE user_id = $1`, [
          account.id,
        ]);
        expectProblem(await verify(token), 400);
        expect((await me(account.auth).expect(200)).body.email_verified).toBe(false);
      });

      it('stores the token only as its SHA-256 hash: no column of account_tokens holds the token', async () => {
        const account = await createAccount(t);
        const token = await verificationToken(account.email);
        const { rows } = await t.db.query<Record<string, unknown>>('SELECT * FROM account_tokens');
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) {
          for (const value of Object.values(row)) {
            expect(String(value instanceof Date ? value.toISOString() : value)).not.toContain(token);
          }
        }
        const mine = rows.filter((row) => row.user_id === account.id);
        expect(mine.map((row) => row.token_hash)).toContain(sha256Hex(token));
      });
    });

    describe('POST /auth/verify-email/resend', () => {
      it('answers 202 {message}, mails a new link, and the older link stops working', async () => {
        const account = await createAccount(t);
        const first = await verificationToken(account.email);
        const response = await resend(account.auth);
        expect(response.status).toBe(202);
        expect(response.body).toEqual({ message: expect.stringMatching(/\S/) });
        const second = await verificationToken(account.email, 2);
        expect(second).not.toBe(first);
        expectProblem(await verify(first), 400);
        await verify(second).expect(204);
        expect((await me(account.auth).expect(200)).body.email_verified).toBe(true);
      });

      it('answers 202 and sends no mail when the address is verified already', async () => {
        const account = await createAccount(t);
        await verifyAccount(account);
        const mailsBefore = smtp.mailsTo(account.email).length;
        const outboxBefore = await outboxRowsTo(t, account.email);
        const response = await resend(account.auth);
        expect(response.status).toBe(202);
        expect(response.body).toEqual({ message: expect.any(String) });
        expect(await outboxRowsTo(t, account.email)).toBe(outboxBefore);
        await sleep(1_000);
        expect(smtp.mailsTo(account.email)).toHaveLength(mailsBefore);
      });

      it('answers the 6th request within the hour with 429 and Retry-After', async () => {
        const account = await createAccount(t);
        for (let request = 1; request <= 5; request += 1) {
          expect((await resend(account.auth)).status).toBe(202);
        }
        expectTooManyRequests(await resend(account.auth));
        // The five accepted requests were mailed (the registration mail makes six).
        await smtp.waitForMails(account.email, 6);
      });

      it('answers 401 without a token', async () => {
        const response = await t.http().post('/auth/verify-email/resend');
        expectProblem(response, 401);
        expect(response.headers['www-authenticate']).toBe('Bearer');
      });
    });

    describe('Password reset', () => {
      it('answers 202 with the same body for an unknown and a known address; only the known one gets a mail', async () => {
        const account = await createAccount(t);
        const unknownEmail = uniqueEmail('unknown');
        // The unknown address first: the worker takes requests in order, so once the known
        // address's mail has arrived, the unknown one has had its turn.
        const unknown = await requestReset(unknownEmail);
        const known = await requestReset(account.email);
        expect(unknown.status).toBe(202);
        expect(known.status).toBe(202);
        expect(unknown.body).toEqual({ message: expect.stringMatching(/\S/) });
        expect(known.body).toEqual(unknown.body);
        expect(known.headers['content-type']).toBe(unknown.headers['content-type']);

        const [link] = await linksTo(account.email, RESET_LINK);
        expect(link).toMatch(/^http:\/\/posts\.test\/auth\/password-reset\?token=[A-Za-z0-9_-]{43,}$/);
        expect(Buffer.from(tokenOf(link), 'base64url').length).toBeGreaterThanOrEqual(32);
        const mail = smtp.mailsTo(account.email).find((candidate) => candidate.text.includes(RESET_LINK));
        expect(mail?.html).toContain(link);
        expect(smtp.mailsTo(unknownEmail)).toEqual([]);
        expect(await outboxRowsTo(t, unknownEmail)).toBe(0);
      });

      it('sets the new password: 204, the old one fails, the new one works, and the address counts as verified', async () => {
        const account = await createAccount(t);
        expect((await me(account.auth).expect(200)).body.email_verified).toBe(false);
        await requestReset(account.email).expect(202);
        const response = await confirmReset(await resetToken(account.email));
        expect(response.status).toBe(204);
        expect(response.text).toBe('');
        expectProblem(await login(account.email), 401);
        const session = await logIn(t, account.email, NEW_PASSWORD);
        expect((await me(session.auth).expect(200)).body.email_verified).toBe(true);
      });

      it('ends every earlier session: their access tokens and refresh tokens give 401', async () => {
        const account = await createAccount(t);
        const second = await logIn(t, account.email);
        const third = await logIn(t, account.email);
        for (const session of [account, second, third]) {
          await me(session.auth).expect(200);
        }
        await requestReset(account.email).expect(202);
        await confirmReset(await resetToken(account.email)).expect(204);
        for (const session of [account, second, third]) {
          expectProblem(await me(session.auth), 401);
          expectProblem(await t.http().post('/auth/refresh').send({ refresh_token: session.refreshToken }), 401);
        }
      });

      it('spends the token: a second confirm is 400 and the first password stays', async () => {
        const account = await createAccount(t);
        await requestReset(account.email).expect(202);
        const token = await resetToken(account.email);
        await confirmReset(token).expect(204);
        expectProblem(await confirmReset(token, 'yet another new password'), 400);
        await login(account.email, NEW_PASSWORD).expect(200);
        expectProblem(await login(account.email, 'yet another new password'), 401);
      });

      it('makes the links sent before a password change stop working (400), so they cannot undo it', async () => {
        const account = await createAccount(t);
        await requestReset(account.email).expect(202);
        const token = await resetToken(account.email);
        await t
          .http()
          .put('/users/me/password')
          .set(account.auth)
          .send({ current_password: TEST_PASSWORD, new_password: 'changed by its owner' })
          .expect(204);
        expectProblem(await confirmReset(token), 400);
        await login(account.email, 'changed by its owner').expect(200);
      });

      it('answers 400 to an unknown token and to an expired one', async () => {
        expectProblem(await confirmReset(randomBytes(32).toString('base64url')), 400);
        const account = await createAccount(t);
        await requestReset(account.email).expect(202);
        const token = await resetToken(account.email);
        await t.db.query(
          `UPDATE account_tokens SET expires_at = now() - interval '1 minute' WHERE user_id = $1 AND purpose = 'password_reset'`,
          [account.id],
        );
        expectProblem(await confirmReset(token), 400);
        await login(account.email).expect(200);
      });

      it('takes no token of the other purpose: a verification token cannot reset, a reset token cannot verify', async () => {
        const account = await createAccount(t);
        const verification = await verificationToken(account.email);
        await requestReset(account.email).expect(202);
        const reset = await resetToken(account.email);
        expectProblem(await confirmReset(verification), 400);
        expectProblem(await verify(reset), 400);
        await login(account.email).expect(200);
        expect((await me(account.auth).expect(200)).body.email_verified).toBe(false);
        // Both still work for what they are.
        await verify(verification).expect(204);
        await confirmReset(reset).expect(204);
      });

      it('a newer request spends the older link', async () => {
        const account = await createAccount(t);
        await requestReset(account.email).expect(202);
        const first = await resetToken(account.email, 1);
        await requestReset(account.email).expect(202);
        const second = await resetToken(account.email, 2);
        expect(second).not.toBe(first);
        expectProblem(await confirmReset(first), 400);
        await confirmReset(second).expect(204);
        await login(account.email, NEW_PASSWORD).expect(200);
      });

      it.each([
        { name: '5 characters', password: 'abcde' },
        { name: '73 bytes', password: 'p'.repeat(73) },
        { name: '25 three-byte characters (75 bytes)', password: '€'.repeat(25) },
      ])('answers 422 naming new_password to a password of $name, and the token still works', async ({ password }) => {
        const account = await createAccount(t);
        await requestReset(account.email).expect(202);
        const token = await resetToken(account.email);
        expectFieldErrors(await confirmReset(token, password), 422, ['new_password']);
        await login(account.email).expect(200);
        await confirmReset(token).expect(204);
        await login(account.email, NEW_PASSWORD).expect(200);
      });

      it('answers the 6th request for one address within the hour with 429 and Retry-After', async () => {
        const account = await createAccount(t);
        for (let request = 1; request <= 5; request += 1) {
          expect((await requestReset(account.email)).status).toBe(202);
        }
        expectTooManyRequests(await requestReset(account.email));
        // Another address is not held back.
        await requestReset(uniqueEmail('free')).expect(202);
      });

      it('answers the 6th request for an unknown address within the hour with 429 too', async () => {
        const email = uniqueEmail('nobody');
        for (let request = 1; request <= 5; request += 1) {
          expect((await requestReset(email)).status).toBe(202);
        }
        expectTooManyRequests(await requestReset(email));
      });

      it('counts every spelling of one address against the same limit', async () => {
        const account = await createAccount(t);
        const spellings = [account.email, account.email.toUpperCase(), ` ${account.email} `];
        for (let request = 0; request < 5; request += 1) {
          expect((await requestReset(spellings[request % spellings.length])).status).toBe(202);
        }
        expectTooManyRequests(await requestReset(` ${account.email.toUpperCase()}`));
      });

      it('normalises the address: " Alice@Example.COM " resets alice@example.com', async () => {
        counter += 1;
        const local = `Alice${counter}${randomBytes(2).toString('hex')}`;
        const email = `${local.toLowerCase()}@example.com`;
        await createAccount(t, { email });
        const response = await requestReset(` ${local}@Example.COM `);
        expect(response.status).toBe(202);
        const token = await resetToken(email);
        await confirmReset(token).expect(204);
        await login(email, NEW_PASSWORD).expect(200);
      });

      it('of two concurrent confirms with one token and different passwords, exactly one wins, and only its password works', async () => {
        const account = await createAccount(t);
        await requestReset(account.email).expect(202);
        const token = await resetToken(account.email);
        const passwords = ['first racing password', 'second racing password'];
        const responses = await Promise.all(passwords.map((password) => confirmReset(token, password)));
        expect(responses.map((response) => response.status).sort()).toEqual([204, 400]);
        const loser = responses.find((response) => response.status === 400) as Response;
        expectProblem(loser, 400);
        const winner = passwords[responses.findIndex((response) => response.status === 204)];
        const other = passwords.find((password) => password !== winner) as string;
        await login(account.email, winner).expect(200);
        expectProblem(await login(account.email, other), 401);
        expectProblem(await login(account.email), 401);
      });
    });

    describe('REQUIRE_VERIFIED_EMAIL off (the default)', () => {
      it('lets an unverified user write a post (201), whose owner is a User with the username', async () => {
        const username = uniqueUsername('poster');
        const account = await createAccount(t, { username });
        expect((await me(account.auth).expect(200)).body.email_verified).toBe(false);
        const response = await t
          .http()
          .post('/posts')
          .set(account.auth)
          .send({ title: 'Unverified but allowed', content: 'Hello' });
        expect(response.status).toBe(201);
        expect(response.body.owner).toEqual({
          id: account.id,
          username,
          email: account.email,
          created_at: expect.stringMatching(ISO_TIMESTAMP),
        });
      });
    });
  });

  describe('Failed-login limit (LOGIN_MAX_FAILURES=3): the e-mail and the username of one account share a count', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await createTestApp({
        LOGIN_MAX_FAILURES: '3',
        SMTP_URL: smtp.url,
        PUBLIC_URL,
        MAIL_POLL_INTERVAL_MS: '100',
      });
    });

    afterAll(async () => {
      await t.close();
    });

    const attempt = (username: string, password: string) =>
      t.http().post('/login').type('form').send({ username, password });

    it('answers 429 with Retry-After to the 4th attempt after 2 failures by e-mail and 1 by username', async () => {
      const username = uniqueUsername('locked');
      const account = await createAccount(t, { username });
      expectProblem(await attempt(account.email, 'wrong password 1'), 401);
      expectProblem(await attempt(account.email.toUpperCase(), 'wrong password 2'), 401);
      expectProblem(await attempt(username.toUpperCase(), 'wrong password 3'), 401);
      const byUsername = await attempt(username, TEST_PASSWORD);
      expectProblem(byUsername, 429);
      expect(Number(byUsername.headers['retry-after'])).toBeGreaterThan(0);
      const byEmail = await attempt(account.email, TEST_PASSWORD);
      expectProblem(byEmail, 429);
      expect(Number(byEmail.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('counts 1 failure by e-mail and 2 by username together too, and the 4th by e-mail is 429', async () => {
      const username = uniqueUsername('locked');
      const account = await createAccount(t, { username });
      expectProblem(await attempt(account.email, 'wrong password 1'), 401);
      expectProblem(await attempt(username, 'wrong password 2'), 401);
      expectProblem(await attempt(username, 'wrong password 3'), 401);
      expectProblem(await attempt(account.email, TEST_PASSWORD), 429);
      // Another account from the same address is not locked out.
      const other = await createAccount(t, { username: uniqueUsername('free') });
      await attempt(other.username as string, TEST_PASSWORD).expect(200);
    });
  });

  describe('REQUIRE_VERIFIED_EMAIL=true', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await createTestApp({
        REQUIRE_VERIFIED_EMAIL: 'true',
        SMTP_URL: smtp.url,
        PUBLIC_URL,
        MAIL_POLL_INTERVAL_MS: '100',
      });
    });

    afterAll(async () => {
      await t.close();
    });

    function expectVerifyFirst(response: Response): void {
      expectProblem(response, 403);
      expect(response.body.detail).toMatch(/verify/i);
    }

    /** A post of `ownerId` written straight into the table (its owner may not write one through the API). */
    async function insertPost(ownerId: number): Promise<number> {
      const { rows } = await t.db.query<{ id: number }>(
        `INSERT INTO posts (title, content, published, owner_id) VALUES ('Seeded', 'Written by the test', true, $1) RETURNING id`,
        [ownerId],
      );
      return rows[0].id;
    }

    it('answers 403 (detail: verify) to an unverified user on POST /posts, PUT and PATCH /posts/{id} and POST /vote; reading works', async () => {
      const account = await createAccount(t, { username: uniqueUsername('strict') });
      const postId = await insertPost(account.id);
      const before = await snapshotTables(t.db);

      expectVerifyFirst(await t.http().post('/posts').set(account.auth).send({ title: 'Mine', content: 'Text' }));
      expectVerifyFirst(
        await t
          .http()
          .put(`/posts/${postId}`)
          .set(account.auth)
          .send({ title: 'Replaced', content: 'Text', published: true }),
      );
      expectVerifyFirst(await t.http().patch(`/posts/${postId}`).set(account.auth).send({ title: 'Changed' }));
      expectVerifyFirst(await t.http().post('/vote').set(account.auth).send({ post_id: postId, dir: 1 }));
      expect(await snapshotTables(t.db)).toEqual(before);

      const posts = await t.http().get('/posts').set(account.auth).expect(200);
      expect((posts.body as { id: number }[]).map((post) => post.id)).toContain(postId);
      await t.http().get(`/posts/${postId}`).set(account.auth).expect(200);
      expect((await t.http().get('/users/me').set(account.auth).expect(200)).body.email_verified).toBe(false);
      // The account routes still work.
      await t.http().post('/auth/verify-email/resend').set(account.auth).expect(202);
      await t
        .http()
        .patch('/users/me')
        .set(account.auth)
        .send({ username: uniqueUsername('renamed') })
        .expect(200);
    });

    it('lets the user write once the address is verified through the link of the mail', async () => {
      const account = await createAccount(t);
      expectVerifyFirst(await t.http().post('/posts').set(account.auth).send({ title: 'Too early', content: 'Text' }));
      await t
        .http()
        .post('/auth/verify-email')
        .send({ token: await verificationToken(account.email) })
        .expect(204);
      // The same access token: whether the address is verified is read at each request.
      const created = await t.http().post('/posts').set(account.auth).send({ title: 'Verified now', content: 'Text' });
      expect(created.status).toBe(201);
      await t.http().patch(`/posts/${created.body.id}`).set(account.auth).send({ title: 'Changed' }).expect(200);
      await t
        .http()
        .put(`/posts/${created.body.id}`)
        .set(account.auth)
        .send({ title: 'Replaced', content: 'Text', published: true })
        .expect(200);
      await t.http().post('/vote').set(account.auth).send({ post_id: created.body.id, dir: 1 }).expect(201);
    });

    it('counts the address as verified after a password reset', async () => {
      const account = await createAccount(t);
      await t.http().post('/auth/password-reset').send({ email: account.email }).expect(202);
      await t
        .http()
        .post('/auth/password-reset/confirm')
        .send({ token: await resetToken(account.email), new_password: NEW_PASSWORD })
        .expect(204);
      const session = await logIn(t, account.email, NEW_PASSWORD);
      await t.http().post('/posts').set(session.auth).send({ title: 'After the reset', content: 'Text' }).expect(201);
    });
  });
});

import { randomBytes } from 'node:crypto';
import { linkIn, TestSmtpServer, tokenOf } from './support/smtp';
import { createTestApp, expectProblem, registerUser, TestApp, TEST_PASSWORD } from './support/test-app';

/**
 * Edges of the accounts routes found in review: odd usernames in paths and bodies, a 409
 * that must not name the caller's own field, the reset form under every address of its
 * page, and tokens issued at the same moment.
 */
describe('Accounts: edges', () => {
  const PUBLIC_URL = 'http://posts.test';
  let t: TestApp;
  let smtp: TestSmtpServer;

  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
    t = await createTestApp({ SMTP_URL: smtp.url, PUBLIC_URL, MAIL_POLL_INTERVAL_MS: '100' });
  });

  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  const email = () => `edge-${randomBytes(4).toString('hex')}@example.com`;

  /** The token of the reset mail of a fresh account (after its verification mail). */
  async function resetToken(address: string): Promise<string> {
    await smtp.waitForMails(address, 1);
    await t.http().post('/auth/password-reset').send({ email: address }).expect(202);
    const mails = await smtp.waitForMails(address, 2);
    const reset = mails.find((mail) => mail.subject === 'Reset your password');
    if (!reset) {
      throw new Error(`no reset mail to ${address}`);
    }
    return tokenOf(linkIn(reset, `${PUBLIC_URL}/auth/password-reset?token=`));
  }

  it.each(['ab%00c', 'a%00bcd', '%E2%80%AEalice', 'x'.repeat(31), 'al ice'])(
    'answers 404 (never 500) to GET /users/%s, a username no user can have',
    async (segment) => {
      const user = await registerUser(t);
      expectProblem(await t.http().get(`/users/${segment}`).set(user.auth), 404);
    },
  );

  it('refuses a username with a Kelvin sign (U+212A), which lower-cases to an ASCII k (422, nothing written)', async () => {
    const response = await t
      .http()
      .post('/users')
      .send({ email: email(), username: '\u212Aarl_edge', password: TEST_PASSWORD });
    expectProblem(response, 422);
    expect(response.body.errors).toEqual([{ field: 'username', message: expect.any(String) }]);
    const rows = await t.db.query(`SELECT 1 FROM users WHERE username = 'karl_edge'`);
    expect(rows.rowCount).toBe(0);
  });

  it("names only the e-mail in the 409 of a PATCH that keeps the caller's own username", async () => {
    const owner = await registerUser(t);
    const username = `keep_${randomBytes(3).toString('hex')}`;
    await t.http().patch('/users/me').set(owner.auth).send({ username }).expect(200);
    const other = await registerUser(t);
    const response = await t
      .http()
      .patch('/users/me')
      .set(owner.auth)
      .send({ username, email: other.email, current_password: TEST_PASSWORD });
    expectProblem(response, 409);
    expect(response.body.errors).toEqual([{ field: 'email', message: expect.any(String) }]);
  });

  it.each(['/auth/password-reset', '/auth/password-reset/'])(
    'serves a form at %s?token= that posts to /auth/password-reset/page, which sets the password',
    async (path) => {
      const user = await registerUser(t, email());
      const token = await resetToken(user.email);
      const page = await t.http().get(`${path}?token=${token}`).expect(200);
      expect(page.text).toContain('action="/auth/password-reset/page"');
      await t
        .http()
        .post('/auth/password-reset/page')
        .type('form')
        .send({ token, new_password: 'edge new password', new_password_again: 'edge new password' })
        .expect(200);
      await t.http().post('/login').send({ username: user.email, password: 'edge new password' }).expect(200);
    },
  );

  it('refuses a password with a NUL character on the page (422, the form again) and keeps the token', async () => {
    const user = await registerUser(t, email());
    const token = await resetToken(user.email);
    const password = 'nul \u0000 inside it';
    const refused = await t
      .http()
      .post('/auth/password-reset/page')
      .type('form')
      .send({ token, new_password: password, new_password_again: password });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('NUL');
    await t.http().post('/login').send({ username: user.email, password: TEST_PASSWORD }).expect(200);
    await t.http().post('/auth/password-reset/confirm').send({ token, new_password: 'fine new password' }).expect(204);
  });

  it('keeps one usable token per account and purpose when several are issued at once', async () => {
    const user = await registerUser(t, email());
    await smtp.waitForMails(user.email, 1);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => t.http().post('/auth/verify-email/resend').set(user.auth)),
    );
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202, 202]);
    const unused = await t.db.query(
      `SELECT count(*)::int AS n FROM account_tokens WHERE user_id = $1 AND purpose = 'email_verification' AND used_at IS NULL`,
      [user.id],
    );
    expect(unused.rows[0].n).toBe(1);
  });
});

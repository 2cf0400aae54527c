import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { ActivityService } from '../src/activity/activity.service';
import { linkIn, TestSmtpServer, tokenOf } from './support/smtp';
import {
  createTestApp,
  expectProblem,
  logIn,
  registerUser,
  TestApp,
  TestSession,
  TEST_PASSWORD,
} from './support/test-app';

/**
 * Security activity (API.md, "Security activity"), end to end: GET /users/me/activity,
 * which action records which event (with the address, user agent and session of the
 * owner's request, or nothing of the kind when an admin acted), that no event holds a
 * secret, the retention of ACTIVITY_RETENTION_DAYS, and the events going with the account.
 */

const PUBLIC_URL = 'http://posts.test';
const VERIFY_LINK = `${PUBLIC_URL}/auth/verify-email?token=`;
const RESET_LINK = `${PUBLIC_URL}/auth/password-reset?token=`;
const ADMIN_EMAIL = 'admin@example.com';
const WRONG_PASSWORD = 'a wrong password for the activity tests';
const NEW_PASSWORD = 'a new password chosen in the activity tests';
const RESET_PASSWORD = 'a password set through a reset link';
const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** Every request of a test comes from the loopback address, as IPv4 or IPv4-mapped IPv6. */
const LOOPBACK = /^(127\.0\.0\.1|::ffff:127\.0\.0\.1)$/;
const EVENT_FIELDS = ['created_at', 'id', 'ip', 'session_id', 'type', 'user_agent'];
/** LOGIN_MAX_FAILURES of the app of this file. */
const MAX_FAILURES = 3;

/** The event types of API.md, "Security activity". */
const CONTRACT_TYPES = [
  'login',
  'login_failed',
  'login_blocked',
  'refresh_reuse_detected',
  'logout',
  'session_ended',
  'password_changed',
  'password_reset_requested',
  'password_reset',
  'email_verification_sent',
  'email_verified',
  'email_changed',
  'username_changed',
  'role_changed',
  'account_disabled',
  'account_enabled',
  'post_removed_by_admin',
  'comment_removed_by_admin',
];

type Auth = { Authorization: string };

interface ActivityEvent {
  id: number;
  type: string;
  created_at: string;
  ip: string | null;
  user_agent: string | null;
  session_id: number | null;
}

interface Account extends TestSession {
  id: number;
  email: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it gives a value (not a timed assertion: the deadline only ends a hang). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
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

let counter = 0;

function uniqueEmail(prefix = 'act'): string {
  counter += 1;
  return `${prefix}${counter}-${randomBytes(3).toString('hex')}@example.com`;
}

/** A User-Agent no other request of this file sends. */
function agent(what: string): string {
  counter += 1;
  return `ActivityTest/${counter} (${what}; ${randomBytes(3).toString('hex')})`;
}

/** An event the account's owner caused with a request sent with `userAgent`. */
function byOwner(type: string, userAgent: string, sessionId: number | null) {
  return {
    id: expect.any(Number),
    type,
    created_at: expect.stringMatching(ISO_TIMESTAMP),
    ip: expect.stringMatching(LOOPBACK),
    user_agent: userAgent,
    session_id: sessionId,
  };
}

/** An event an admin caused: no address, user agent or session is shown to the owner. */
function byAdmin(type: string) {
  return {
    id: expect.any(Number),
    type,
    created_at: expect.stringMatching(ISO_TIMESTAMP),
    ip: null,
    user_agent: null,
    session_id: null,
  };
}

/** The URL of the `rel="next"` page of a `Link` header, or undefined on the last page. */
function nextLink(response: Response): string | undefined {
  const link = response.headers.link as string | undefined;
  if (link === undefined) {
    return undefined;
  }
  const match = /^<([^>]+)>; rel="next"$/.exec(link);
  if (!match) {
    throw new Error(`not a Link header of a next page: ${link}`);
  }
  return match[1];
}

describe('Security activity', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let admin: Account;
  /** Every password, token and single-use token this file used or was given. */
  const secrets = new Set<string>([TEST_PASSWORD, WRONG_PASSWORD, NEW_PASSWORD, RESET_PASSWORD]);
  /** The body of every GET /users/me/activity answer of this file. */
  const answers: string[] = [];

  function keep<T extends { token: string; refreshToken: string }>(session: T): T {
    secrets.add(session.token);
    secrets.add(session.refreshToken);
    return session;
  }

  const signIn = async (email: string, password = TEST_PASSWORD, userAgent = agent('login')) =>
    keep(await logIn(t, email, password, { 'User-Agent': userAgent }));

  /** Registers through the API (no User-Agent of its own) and logs in: session A. */
  const newAccount = async (): Promise<Account> => keep(await registerUser(t, uniqueEmail()));

  const loginWith = (email: string, password: string, userAgent: string) =>
    t.http().post('/login').set('User-Agent', userAgent).type('form').send({ username: email, password });

  const refresh = async (refreshToken: string, userAgent = agent('refresh')) => {
    const response = await t
      .http()
      .post('/auth/refresh')
      .set('User-Agent', userAgent)
      .send({ refresh_token: refreshToken });
    if (response.status === 200) {
      secrets.add(response.body.access_token as string);
      secrets.add(response.body.refresh_token as string);
    }
    return response;
  };

  async function activity(auth: Auth, query: Record<string, string | number | undefined> = {}): Promise<Response> {
    const response = await t.http().get('/users/me/activity').query(query).set(auth);
    answers.push(response.text);
    return response;
  }

  /** The id of the user's newest event (0 when none): what happens next has a larger one. */
  async function markOf(userId: number): Promise<number> {
    const { rows } = await t.db.query<{ max: string | null }>(
      'SELECT max(id) AS max FROM activity_events WHERE user_id = $1',
      [userId],
    );
    return Number(rows[0].max ?? 0);
  }

  /** The events after `mark`, newest first, as the owner reads them with `auth`. */
  async function eventsAfter(auth: Auth, mark: number): Promise<ActivityEvent[]> {
    const response = await activity(auth, { limit: 100 });
    expect(response.status).toBe(200);
    return (response.body as ActivityEvent[]).filter((event) => event.id > mark);
  }

  /**
   * The events after `mark` once there are `count` of them: a refused login is recorded off
   * the answer's path (its time must not tell that the account exists), so just after.
   */
  async function settledEventsAfter(auth: Auth, mark: number, count: number): Promise<ActivityEvent[]> {
    return waitFor(`${count} event(s) after ${mark}`, async () => {
      const events = await eventsAfter(auth, mark);
      return events.length >= count ? events : undefined;
    });
  }

  /** Waits until the user has an event of this type after `mark` (read in the table). */
  async function recorded(userId: number, type: string, mark: number): Promise<void> {
    await waitFor(`${type} of user ${userId}`, async () => {
      const { rows } = await t.db.query('SELECT 1 FROM activity_events WHERE user_id = $1 AND type = $2 AND id > $3', [
        userId,
        type,
        mark,
      ]);
      return rows.length > 0 ? true : undefined;
    });
  }

  async function eventRows(): Promise<number> {
    const { rows } = await t.db.query<{ count: string }>('SELECT count(*) AS count FROM activity_events');
    return Number(rows[0].count);
  }

  /** The token of the `count`-th mail to `email` with a link starting with `prefix`. */
  async function mailedToken(email: string, prefix: string, count = 1): Promise<string> {
    const mails = await waitFor(`mail ${count} with ${prefix} to ${email}`, () => {
      const found = smtp.mailsTo(email).filter((mail) => mail.text.includes(prefix));
      return Promise.resolve(found.length >= count ? found : undefined);
    });
    const token = tokenOf(linkIn(mails[count - 1], prefix));
    secrets.add(token);
    return token;
  }

  const asAdmin = {
    disable: (id: number) => t.http().post(`/admin/users/${id}/disable`).set(admin.auth).expect(200),
    enable: (id: number) => t.http().post(`/admin/users/${id}/enable`).set(admin.auth).expect(200),
    setRole: (id: number, role: string) =>
      t.http().put(`/admin/users/${id}/role`).set(admin.auth).send({ role }).expect(200),
  };

  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
    t = await createTestApp({
      SMTP_URL: smtp.url,
      PUBLIC_URL,
      MAIL_POLL_INTERVAL_MS: '100',
      ADMIN_EMAILS: ADMIN_EMAIL,
      LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      // A spent refresh token presented again is theft at once.
      REFRESH_REUSE_GRACE_SECONDS: '0',
    });
    admin = keep(await registerUser(t, ADMIN_EMAIL));
  });

  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  describe('GET /users/me/activity', () => {
    it("lists the caller's own events, newest first, as [{id, type, created_at, ip, user_agent, session_id}]", async () => {
      const user = await newAccount();
      const other = await newAccount();
      const phone = await signIn(user.email, TEST_PASSWORD, 'PhoneApp/2.0');
      await signIn(other.email);
      const otherMark = await markOf(other.id);
      await loginWith(other.email, WRONG_PASSWORD, agent('other')).expect(401);
      await recorded(other.id, 'login_failed', otherMark);

      const response = await activity(phone.auth);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const events = response.body as ActivityEvent[];
      for (const event of events) {
        expect(Object.keys(event).sort()).toEqual(EVENT_FIELDS);
        expect(CONTRACT_TYPES).toContain(event.type);
      }
      // Registration (its verification mail), the login of registerUser, the phone's login.
      expect(events.map((event) => event.type)).toEqual(['login', 'login', 'email_verification_sent']);
      expect(events[0]).toEqual(byOwner('login', 'PhoneApp/2.0', phone.sessionId));
      expect(events[1].session_id).toBe(user.sessionId);
      const ids = events.map((event) => event.id);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      const { rows } = await t.db.query<{ id: string }>(
        'SELECT id FROM activity_events WHERE user_id = $1 ORDER BY id DESC',
        [user.id],
      );
      expect(ids).toEqual(rows.map((row) => Number(row.id)));

      // The other user's events are theirs only.
      const theirs = (await activity(other.auth)).body as ActivityEvent[];
      expect(theirs.map((event) => event.type)).toEqual(['login_failed', 'login', 'login', 'email_verification_sent']);
      expect(theirs.filter((event) => ids.includes(event.id))).toEqual([]);
    });

    it('pages with Link: a walk with limit=2 collects every event exactly once, in order', async () => {
      const user = await newAccount();
      const other = await newAccount();
      for (let index = 0; index < 4; index += 1) {
        await signIn(user.email);
        await signIn(other.email);
      }
      const first = await activity(user.auth, { limit: 2 });
      expect(first.status).toBe(200);
      expect(first.body).toHaveLength(2);
      expect(first.headers.link).toMatch(/^<\/users\/me\/activity\?limit=2&cursor=[A-Za-z0-9_-]+>; rel="next"$/);

      const collected: number[] = [];
      let pages = 0;
      let url: string | undefined = '/users/me/activity?limit=2';
      while (url !== undefined && pages < 100) {
        const page = await t.http().get(url).set(user.auth).expect(200);
        answers.push(page.text);
        pages += 1;
        expect((page.body as ActivityEvent[]).length).toBeLessThanOrEqual(2);
        collected.push(...(page.body as ActivityEvent[]).map((event) => event.id));
        url = nextLink(page);
      }
      const { rows } = await t.db.query<{ id: string }>(
        'SELECT id FROM activity_events WHERE user_id = $1 ORDER BY id DESC',
        [user.id],
      );
      // email_verification_sent and five logins.
      expect(rows).toHaveLength(6);
      expect(collected).toEqual(rows.map((row) => Number(row.id)));
      expect(pages).toBe(3);
    });

    it.each([
      { name: 'a cursor this service did not issue', query: { cursor: 'bogus' }, field: 'cursor' },
      { name: 'a cursor of id 0', query: { cursor: Buffer.from('i0').toString('base64url') }, field: 'cursor' },
      {
        name: 'a cursor past the largest bigint',
        query: { cursor: Buffer.from('i9223372036854775808').toString('base64url') },
        field: 'cursor',
      },
      { name: 'limit=0', query: { limit: 0 }, field: 'limit' },
      { name: 'limit=101', query: { limit: 101 }, field: 'limit' },
    ])('answers 422 naming the field to $name', async ({ query, field }) => {
      const user = await newAccount();
      const response = await activity(user.auth, query);
      expectProblem(response, 422);
      expect(response.body.errors).toEqual([{ field, message: expect.any(String) }]);
    });

    it('needs a token (401 with WWW-Authenticate: Bearer)', async () => {
      const response = await t.http().get('/users/me/activity');
      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('every event type is produced by the action that should produce it', () => {
    const cases: { type: string; when: string; run: () => Promise<void> }[] = [
      {
        type: 'login',
        when: 'a login: the session of the new token',
        run: async () => {
          const user = await newAccount();
          const mark = await markOf(user.id);
          const userAgent = agent('login');
          const session = await signIn(user.email, TEST_PASSWORD, userAgent);
          const sessions = await t.http().get('/auth/sessions').set(session.auth).expect(200);
          const current = (sessions.body as { id: number; current: boolean }[]).filter((listed) => listed.current);
          expect(current.map((listed) => listed.id)).toEqual([session.sessionId]);
          expect(await eventsAfter(session.auth, mark)).toEqual([byOwner('login', userAgent, current[0].id)]);
        },
      },
      {
        type: 'login_failed',
        when: 'a wrong password for an existing account',
        run: async () => {
          const user = await newAccount();
          const mark = await markOf(user.id);
          const userAgent = agent('login_failed');
          expectProblem(await loginWith(user.email, WRONG_PASSWORD, userAgent), 401);
          expect(await settledEventsAfter(user.auth, mark, 1)).toEqual([byOwner('login_failed', userAgent, null)]);
        },
      },
      {
        type: 'login_blocked',
        when: 'a login past LOGIN_MAX_FAILURES (429), even with the right password',
        run: async () => {
          const user = await newAccount();
          const start = await markOf(user.id);
          for (let failure = 0; failure < MAX_FAILURES; failure += 1) {
            expectProblem(await loginWith(user.email, WRONG_PASSWORD, agent('failing')), 401);
          }
          await settledEventsAfter(user.auth, start, MAX_FAILURES);
          const mark = await markOf(user.id);
          const userAgent = agent('login_blocked');
          const blocked = await loginWith(user.email, TEST_PASSWORD, userAgent);
          expectProblem(blocked, 429);
          expect(blocked.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
          expect(await settledEventsAfter(user.auth, mark, 1)).toEqual([byOwner('login_blocked', userAgent, null)]);
        },
      },
      {
        type: 'login_blocked',
        when: "a disabled account's right password (403)",
        run: async () => {
          const user = await newAccount();
          await asAdmin.disable(user.id);
          const mark = await markOf(user.id);
          const userAgent = agent('login_blocked');
          expectProblem(await loginWith(user.email, TEST_PASSWORD, userAgent), 403);
          await recorded(user.id, 'login_blocked', mark);
          await asAdmin.enable(user.id);
          const readerAgent = agent('reader');
          const reader = await signIn(user.email, TEST_PASSWORD, readerAgent);
          expect(await eventsAfter(reader.auth, mark)).toEqual([
            byOwner('login', readerAgent, reader.sessionId),
            byAdmin('account_enabled'),
            byOwner('login_blocked', userAgent, null),
          ]);
        },
      },
      {
        type: 'refresh_reuse_detected',
        when: 'a spent refresh token presented again (REFRESH_REUSE_GRACE_SECONDS=0): the revoked session',
        run: async () => {
          const user = await newAccount();
          const other = await signIn(user.email);
          const rotated = await refresh(other.refreshToken);
          expect(rotated.status).toBe(200);
          const mark = await markOf(user.id);
          const userAgent = agent('refresh_reuse_detected');
          expectProblem(await refresh(other.refreshToken, userAgent), 401);
          expectProblem(
            await t
              .http()
              .get('/users/me')
              .set({ Authorization: `Bearer ${rotated.body.access_token as string}` }),
            401,
          );
          expect(await eventsAfter(user.auth, mark)).toEqual([
            byOwner('refresh_reuse_detected', userAgent, other.sessionId),
          ]);
        },
      },
      {
        type: 'logout',
        when: 'POST /auth/logout: the ended session',
        run: async () => {
          const user = await newAccount();
          const other = await signIn(user.email);
          const mark = await markOf(user.id);
          const userAgent = agent('logout');
          await t.http().post('/auth/logout').set(other.auth).set('User-Agent', userAgent).expect(204);
          expect(await eventsAfter(user.auth, mark)).toEqual([byOwner('logout', userAgent, other.sessionId)]);
        },
      },
      {
        type: 'session_ended',
        when: 'DELETE /auth/sessions/{another id}: the ended session',
        run: async () => {
          const user = await newAccount();
          const other = await signIn(user.email);
          const mark = await markOf(user.id);
          const userAgent = agent('session_ended');
          await t
            .http()
            .delete(`/auth/sessions/${other.sessionId}`)
            .set(user.auth)
            .set('User-Agent', userAgent)
            .expect(204);
          expectProblem(await t.http().get('/users/me').set(other.auth), 401);
          expect(await eventsAfter(user.auth, mark)).toEqual([byOwner('session_ended', userAgent, other.sessionId)]);
        },
      },
      {
        type: 'password_changed',
        when: 'PUT /users/me/password: the session that changed it',
        run: async () => {
          const user = await newAccount();
          await signIn(user.email);
          const mark = await markOf(user.id);
          const userAgent = agent('password_changed');
          await t
            .http()
            .put('/users/me/password')
            .set(user.auth)
            .set('User-Agent', userAgent)
            .send({ current_password: TEST_PASSWORD, new_password: NEW_PASSWORD })
            .expect(204);
          expect(await eventsAfter(user.auth, mark)).toEqual([byOwner('password_changed', userAgent, user.sessionId)]);
        },
      },
      {
        type: 'password_reset_requested',
        when: 'POST /auth/password-reset (written by the background work: polled for)',
        run: async () => {
          const user = await newAccount();
          const mark = await markOf(user.id);
          const userAgent = agent('password_reset_requested');
          await t
            .http()
            .post('/auth/password-reset')
            .set('User-Agent', userAgent)
            .send({ email: user.email })
            .expect(202);
          const events = await waitFor('the password_reset_requested event', async () => {
            const found = await eventsAfter(user.auth, mark);
            return found.length > 0 ? found : undefined;
          });
          await mailedToken(user.email, RESET_LINK);
          expect(events).toEqual([byOwner('password_reset_requested', userAgent, null)]);
          expect(await eventsAfter(user.auth, mark)).toEqual(events);
        },
      },
      {
        type: 'password_reset',
        when: 'POST /auth/password-reset/confirm',
        run: async () => {
          const user = await newAccount();
          await t.http().post('/auth/password-reset').send({ email: user.email }).expect(202);
          const token = await mailedToken(user.email, RESET_LINK);
          // The mail and its event are written in one transaction.
          expect((await eventsAfter(user.auth, 0))[0].type).toBe('password_reset_requested');
          const mark = await markOf(user.id);
          const userAgent = agent('password_reset');
          await t
            .http()
            .post('/auth/password-reset/confirm')
            .set('User-Agent', userAgent)
            .send({ token, new_password: RESET_PASSWORD })
            .expect(204);
          expectProblem(await t.http().get('/users/me').set(user.auth), 401);
          const readerAgent = agent('reader');
          const reader = await signIn(user.email, RESET_PASSWORD, readerAgent);
          expect(await eventsAfter(reader.auth, mark)).toEqual([
            byOwner('login', readerAgent, reader.sessionId),
            byOwner('password_reset', userAgent, null),
          ]);
        },
      },
      {
        type: 'email_verification_sent',
        when: 'a registration',
        run: async () => {
          const email = uniqueEmail('registered');
          const userAgent = agent('email_verification_sent');
          await t
            .http()
            .post('/users')
            .set('User-Agent', userAgent)
            .send({ email, password: TEST_PASSWORD })
            .expect(201);
          const readerAgent = agent('reader');
          const reader = await signIn(email, TEST_PASSWORD, readerAgent);
          expect(await eventsAfter(reader.auth, 0)).toEqual([
            byOwner('login', readerAgent, reader.sessionId),
            byOwner('email_verification_sent', userAgent, null),
          ]);
          await mailedToken(email, VERIFY_LINK);
        },
      },
      {
        type: 'email_verification_sent',
        when: 'POST /auth/verify-email/resend: the session that asked',
        run: async () => {
          const user = await newAccount();
          const mark = await markOf(user.id);
          const userAgent = agent('resend');
          await t.http().post('/auth/verify-email/resend').set(user.auth).set('User-Agent', userAgent).expect(202);
          expect(await eventsAfter(user.auth, mark)).toEqual([
            byOwner('email_verification_sent', userAgent, user.sessionId),
          ]);
          await mailedToken(user.email, VERIFY_LINK, 2);
        },
      },
      {
        type: 'email_verified',
        when: 'POST /auth/verify-email',
        run: async () => {
          const user = await newAccount();
          const token = await mailedToken(user.email, VERIFY_LINK);
          const mark = await markOf(user.id);
          const userAgent = agent('email_verified');
          await t.http().post('/auth/verify-email').set('User-Agent', userAgent).send({ token }).expect(204);
          expect(await eventsAfter(user.auth, mark)).toEqual([byOwner('email_verified', userAgent, null)]);
        },
      },
      {
        type: 'email_changed',
        when: 'PATCH /users/me with a new e-mail (with the verification mail to the new address)',
        run: async () => {
          const user = await newAccount();
          const mark = await markOf(user.id);
          const userAgent = agent('email_changed');
          const email = uniqueEmail('moved');
          await t
            .http()
            .patch('/users/me')
            .set(user.auth)
            .set('User-Agent', userAgent)
            .send({ email, current_password: TEST_PASSWORD })
            .expect(200);
          const events = await eventsAfter(user.auth, mark);
          // One transaction: the change, and the verification mail it sends to the new address.
          expect([...events].sort((a, b) => a.type.localeCompare(b.type))).toEqual([
            byOwner('email_changed', userAgent, user.sessionId),
            byOwner('email_verification_sent', userAgent, user.sessionId),
          ]);
          await mailedToken(email, VERIFY_LINK);
        },
      },
      {
        type: 'username_changed',
        when: 'PATCH /users/me with a new username',
        run: async () => {
          const user = await newAccount();
          const mark = await markOf(user.id);
          const userAgent = agent('username_changed');
          await t
            .http()
            .patch('/users/me')
            .set(user.auth)
            .set('User-Agent', userAgent)
            .send({ username: `handle_${randomBytes(4).toString('hex')}` })
            .expect(200);
          expect(await eventsAfter(user.auth, mark)).toEqual([byOwner('username_changed', userAgent, user.sessionId)]);
        },
      },
      {
        type: 'role_changed',
        when: 'an admin promotes or demotes the account',
        run: async () => {
          const user = await newAccount();
          const mark = await markOf(user.id);
          const adminMark = await markOf(admin.id);
          await asAdmin.setRole(user.id, 'admin');
          expect(await eventsAfter(user.auth, mark)).toEqual([byAdmin('role_changed')]);
          await asAdmin.setRole(user.id, 'user');
          expect(await eventsAfter(user.auth, mark)).toEqual([byAdmin('role_changed'), byAdmin('role_changed')]);
          // The event is the account's, not the admin's.
          expect(await eventsAfter(admin.auth, adminMark)).toEqual([]);
        },
      },
      {
        type: 'account_disabled',
        when: 'an admin disables the account',
        run: async () => {
          const user = await newAccount();
          const mark = await markOf(user.id);
          await asAdmin.disable(user.id);
          // The owner cannot read their activity while disabled: the row, then the API once enabled.
          const { rows } = await t.db.query(
            'SELECT type, ip, user_agent, session_id FROM activity_events WHERE user_id = $1 AND id > $2',
            [user.id, mark],
          );
          expect(rows).toEqual([{ type: 'account_disabled', ip: null, user_agent: null, session_id: null }]);
          await asAdmin.enable(user.id);
          const readerAgent = agent('reader');
          const reader = await signIn(user.email, TEST_PASSWORD, readerAgent);
          expect(await eventsAfter(reader.auth, mark)).toEqual([
            byOwner('login', readerAgent, reader.sessionId),
            byAdmin('account_enabled'),
            byAdmin('account_disabled'),
          ]);
        },
      },
      {
        type: 'account_enabled',
        when: 'an admin enables the account',
        run: async () => {
          const user = await newAccount();
          await asAdmin.disable(user.id);
          const mark = await markOf(user.id);
          await asAdmin.enable(user.id);
          const readerAgent = agent('reader');
          const reader = await signIn(user.email, TEST_PASSWORD, readerAgent);
          expect(await eventsAfter(reader.auth, mark)).toEqual([
            byOwner('login', readerAgent, reader.sessionId),
            byAdmin('account_enabled'),
          ]);
        },
      },
      {
        type: 'post_removed_by_admin',
        when: "an admin deletes the account's post",
        run: async () => {
          const user = await newAccount();
          const post = await t
            .http()
            .post('/posts')
            .set(user.auth)
            .send({ title: 'Moderated', content: 'Soon gone', published: true })
            .expect(201);
          const mark = await markOf(user.id);
          const adminMark = await markOf(admin.id);
          await t
            .http()
            .delete(`/posts/${post.body.id as number}`)
            .set(admin.auth)
            .expect(204);
          expect(await eventsAfter(user.auth, mark)).toEqual([byAdmin('post_removed_by_admin')]);
          expect(await eventsAfter(admin.auth, adminMark)).toEqual([]);
          // The owner deleting their own post is no event.
          const own = await t.http().post('/posts').set(user.auth).send({ title: 'Mine', content: 'Gone' }).expect(201);
          const ownMark = await markOf(user.id);
          await t
            .http()
            .delete(`/posts/${own.body.id as number}`)
            .set(user.auth)
            .expect(204);
          expect(await eventsAfter(user.auth, ownMark)).toEqual([]);
        },
      },
      {
        type: 'comment_removed_by_admin',
        when: "an admin deletes the account's comment on another user's post",
        run: async () => {
          const user = await newAccount();
          const owner = await newAccount();
          const post = await t
            .http()
            .post('/posts')
            .set(owner.auth)
            .send({ title: 'Open', content: 'Talk' })
            .expect(201);
          const comment = async () =>
            (
              await t
                .http()
                .post(`/posts/${post.body.id as number}/comments`)
                .set(user.auth)
                .send({ content: 'Soon gone' })
                .expect(201)
            ).body.id as number;
          const moderated = await comment();
          const mark = await markOf(user.id);
          const adminMark = await markOf(admin.id);
          await t.http().delete(`/comments/${moderated}`).set(admin.auth).expect(204);
          expect(await eventsAfter(user.auth, mark)).toEqual([byAdmin('comment_removed_by_admin')]);
          expect(await eventsAfter(admin.auth, adminMark)).toEqual([]);
          // The author's and the post owner's deletions are no event.
          const [own, onOwnersPost] = [await comment(), await comment()];
          const ownMark = await markOf(user.id);
          await t.http().delete(`/comments/${own}`).set(user.auth).expect(204);
          await t.http().delete(`/comments/${onOwnersPost}`).set(owner.auth).expect(204);
          expect(await eventsAfter(user.auth, ownMark)).toEqual([]);
        },
      },
    ];

    it('covers every type of the contract', () => {
      expect([...new Set(cases.map((each) => each.type))].sort()).toEqual([...CONTRACT_TYPES].sort());
    });

    it.each(cases)('$type: $when', async ({ run }) => {
      await run();
    });
  });

  describe('what leaves no event', () => {
    it('a failed login leaves login_failed and no login', async () => {
      const user = await newAccount();
      const mark = await markOf(user.id);
      const before = await eventRows();
      expectProblem(await loginWith(user.email, WRONG_PASSWORD, agent('failed')), 401);
      expect((await settledEventsAfter(user.auth, mark, 1)).map((event) => event.type)).toEqual(['login_failed']);
      expect(await eventRows()).toBe(before + 1);
    });

    it('many refused logins from one address leave one login_blocked, not one per attempt', async () => {
      const user = await newAccount();
      const start = await markOf(user.id);
      for (let attempt = 0; attempt < MAX_FAILURES + 10; attempt += 1) {
        await loginWith(user.email, WRONG_PASSWORD, agent('flood'));
      }
      await recorded(user.id, 'login_blocked', start);
      // The refusals are recorded off the answers' path: let the last ones land before counting.
      await sleep(500);
      const { rows } = await t.db.query<{ type: string; count: number }>(
        'SELECT type, count(*)::int AS count FROM activity_events WHERE user_id = $1 AND id > $2 GROUP BY type ORDER BY type',
        [user.id, start],
      );
      expect(rows).toEqual([
        { type: 'login_blocked', count: 1 },
        { type: 'login_failed', count: MAX_FAILURES },
      ]);
    });

    it('a login for an unknown e-mail or username leaves no event anywhere', async () => {
      const before = await eventRows();
      expectProblem(await loginWith(uniqueEmail('nobody'), TEST_PASSWORD, agent('unknown')), 401);
      expectProblem(await loginWith(uniqueEmail('nobody'), WRONG_PASSWORD, agent('unknown')), 401);
      expectProblem(await loginWith(`nobody_${randomBytes(3).toString('hex')}`, WRONG_PASSWORD, agent('unknown')), 401);
      expect(await eventRows()).toBe(before);
    });
  });

  describe('secrets', () => {
    // After the tests above (Jest runs a file's tests in order): every action has been taken.
    it('are in no event: no password, access or refresh token, mailed token, or bcrypt hash', async () => {
      const { rows: events } = await t.db.query('SELECT * FROM activity_events');
      expect(events.length).toBeGreaterThan(50);
      expect(new Set(events.map((event: { type: string }) => event.type)).size).toBe(CONTRACT_TYPES.length);
      const { rows: hashes } = await t.db.query<{ password_hash: string }>('SELECT password_hash FROM users');
      answers.push((await activity(admin.auth, { limit: 100 })).text);

      // Every single-use token of every mail sent, read by a test or not.
      for (const mail of smtp.received) {
        for (const [, token] of mail.text.matchAll(/[?&]token=([A-Za-z0-9_-]+)/g)) {
          secrets.add(token);
        }
      }
      expect(smtp.received.length).toBeGreaterThan(20);

      const stored = JSON.stringify(events);
      const everything = [stored, ...answers];
      const forbidden = [...secrets, ...hashes.map((row) => row.password_hash)];
      expect(forbidden.length).toBeGreaterThan(50);
      const breaches: string[] = [];
      for (const [index, text] of everything.entries()) {
        const where = index === 0 ? 'activity_events' : `activity answer ${index}`;
        for (const secret of forbidden) {
          if (text.includes(secret)) {
            breaches.push(`${where} holds ${secret.slice(0, 12)}...`);
          }
        }
        if (text.includes('$2')) {
          breaches.push(`${where} holds a bcrypt hash prefix`);
        }
      }
      expect(breaches).toEqual([]);
    });
  });

  describe('retention', () => {
    it('forgets the events older than ACTIVITY_RETENTION_DAYS (90) and keeps the others', async () => {
      const user = await newAccount();
      const insert = async (daysAgo: number) => {
        const { rows } = await t.db.query<{ id: string }>(
          `INSERT INTO activity_events (user_id, type, created_at, ip, user_agent, session_id)
           VALUES ($1, 'login', now() - make_interval(days => $2), '127.0.0.1', 'Old/1.0', NULL) RETURNING id`,
          [user.id, daysAgo],
        );
        return Number(rows[0].id);
      };
      const old = await insert(91);
      const kept = await insert(89);
      const recent = (await eventsAfter(user.auth, 0)).filter((event) => event.id !== old && event.id !== kept);
      expect(recent.length).toBeGreaterThan(0);

      const forgotten = await t.app.get(ActivityService).forgetOld();
      expect(forgotten).toBeGreaterThanOrEqual(1);
      const left = (await eventsAfter(user.auth, 0)).map((event) => event.id);
      expect(left).not.toContain(old);
      expect(left).toContain(kept);
      expect(left).toEqual(expect.arrayContaining(recent.map((event) => event.id)));
      const { rows } = await t.db.query('SELECT id FROM activity_events WHERE id = $1', [old]);
      expect(rows).toEqual([]);
    });
  });

  describe('deleting the account', () => {
    it('deletes its events (ON DELETE CASCADE)', async () => {
      const user = await newAccount();
      const other = await newAccount();
      await signIn(user.email);
      const count = async (id: number) =>
        Number(
          (
            await t.db.query<{ count: string }>('SELECT count(*) AS count FROM activity_events WHERE user_id = $1', [
              id,
            ])
          ).rows[0].count,
        );
      expect(await count(user.id)).toBeGreaterThan(0);
      const othersBefore = await count(other.id);
      await t.http().delete('/users/me').set(user.auth).send({ password: TEST_PASSWORD }).expect(204);
      expect(await count(user.id)).toBe(0);
      expect(await count(other.id)).toBe(othersBefore);
    });
  });
});

describe('ACTIVITY_RETENTION_DAYS=10', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ ACTIVITY_RETENTION_DAYS: '10' });
  });

  afterAll(async () => {
    await t.close();
  });

  it('forgets an event 11 days old and keeps one 9 days old', async () => {
    const user = await registerUser(t);
    const insert = async (daysAgo: number) => {
      const { rows } = await t.db.query<{ id: string }>(
        `INSERT INTO activity_events (user_id, type, created_at) VALUES ($1, 'logout', now() - make_interval(days => $2))
         RETURNING id`,
        [user.id, daysAgo],
      );
      return Number(rows[0].id);
    };
    const old = await insert(11);
    const kept = await insert(9);
    expect(await t.app.get(ActivityService).forgetOld()).toBe(1);
    const listed = (await t.http().get('/users/me/activity').set(user.auth).expect(200)).body as ActivityEvent[];
    const ids = listed.map((event) => event.id);
    expect(ids).toContain(kept);
    expect(ids).not.toContain(old);
    // Newest first by id: the inserted event comes after the registration's.
    expect(listed.map((event) => event.type)).toEqual(['logout', 'login', 'email_verification_sent']);
  });
});

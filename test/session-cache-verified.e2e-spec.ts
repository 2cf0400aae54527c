import { hashSecretToken, newSecretToken } from '../src/common/identity/secret-token';
import { createTestApp, registerUser, TestApp } from './support/test-app';

/**
 * A verification changes what the cached session check says (`email_verified`): the
 * instance that verified the address lets the user write from the next request on, even
 * with no notification (the trigger is off here). One app per file: two apps in one
 * process share Passport's strategies (see session-cache.e2e-spec.ts).
 */
describe('The session cache with REQUIRE_VERIFIED_EMAIL=true, on the instance that verified the address', () => {
  let v: TestApp;

  beforeAll(async () => {
    v = await createTestApp({ REQUIRE_VERIFIED_EMAIL: 'true' });
    await v.db.query('ALTER TABLE users DISABLE TRIGGER users_notify_changed');
  });

  afterAll(async () => {
    await v.close();
  });

  it('lets the user write at once after the verification, with no notification', async () => {
    const user = await registerUser(v);
    const post = () => v.http().post('/posts').set(user.auth).send({ title: 'Verified?', content: 'c' });
    expect((await post()).status).toBe(403);
    const token = newSecretToken();
    await v.db.query(
      "UPDATE account_tokens SET used_at = now() WHERE user_id = $1 AND purpose = 'email_verification' AND used_at IS NULL",
      [user.id],
    );
    await v.db.query(
      `INSERT INTO account_tokens (user_id, purpose, token_hash, email, expires_at)
       VALUES ($1, 'email_verification', $2, $3, now() + interval '1 hour')`,
      [user.id, hashSecretToken(token), user.email],
    );
    await v.http().post('/auth/verify-email').send({ token }).expect(204);
    expect((await post()).status).toBe(201);
  });
});

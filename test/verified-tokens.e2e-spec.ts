import { Strategy } from 'passport-jwt';
import { createTestApp, expectProblem, registerUser, type TestApp } from './support/test-app';
import { craftToken, decodePart } from './support/tokens';

const INVALID_TOKEN = 'Bearer error="invalid_token"';

/**
 * `JwtStrategy` remembers the tokens whose signature it verified (src/auth/jwt.strategy.ts):
 * these tests show that a remembered token skips the verification, and that remembering
 * never lets through what the verification would refuse: another string, an expired
 * token, an ended session.
 */
describe('Remembered access tokens', () => {
  let t: TestApp;
  let verifier: jest.SpyInstance;

  beforeAll(async () => {
    t = await createTestApp();
  });

  beforeEach(() => {
    verifier = jest.spyOn(Strategy as unknown as { JwtVerifier: () => void }, 'JwtVerifier');
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  afterAll(async () => {
    await t.close();
  });

  const me = (token: string) => t.http().get('/users/me').set('Authorization', `Bearer ${token}`);

  it('verifies a token once, then answers its next requests from memory', async () => {
    const user = await registerUser(t);
    verifier.mockClear();
    for (let i = 0; i < 3; i += 1) {
      expect((await me(user.token).expect(200)).body.id).toBe(user.id);
    }
    expect(verifier).toHaveBeenCalledTimes(1);
  });

  it('verifies every other string in full: a changed signature is refused after the real token was remembered', async () => {
    const user = await registerUser(t);
    await me(user.token).expect(200);
    const [header, payload, signature] = user.token.split('.');
    const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    verifier.mockClear();
    const response = await me(flipped);
    expectProblem(response, 401);
    expect(response.headers['www-authenticate']).toBe(INVALID_TOKEN);
    expect(verifier).toHaveBeenCalledTimes(1);
  });

  it('refuses a remembered token once it has expired, as an expired token', async () => {
    const user = await registerUser(t);
    const now = Math.floor(Date.now() / 1000);
    const shortLived = craftToken({ ...decodePart(user.token, 1), iat: now, exp: now + 60 });
    await me(shortLived).expect(200);
    const clock = jest.spyOn(Date, 'now');
    // The last millisecond of its last second still counts; the second of `exp` no longer does.
    clock.mockReturnValue((now + 60) * 1000 - 1);
    await me(shortLived).expect(200);
    clock.mockReturnValue((now + 60) * 1000);
    const response = await me(shortLived);
    expectProblem(response, 401);
    expect(response.headers['www-authenticate']).toBe(INVALID_TOKEN);
    expect(response.body.detail).toMatch(/expired/i);
  });

  it('refuses a remembered token at once after its session ended', async () => {
    const user = await registerUser(t);
    await me(user.token).expect(200);
    await t.http().post('/auth/logout').set(user.auth).expect(204);
    verifier.mockClear();
    const response = await me(user.token);
    expectProblem(response, 401);
    expect(response.headers['www-authenticate']).toBe(INVALID_TOKEN);
    // Refused by the session check, not by a new verification.
    expect(verifier).not.toHaveBeenCalled();
  });

  it('never remembers a token with a not-before claim', async () => {
    const user = await registerUser(t);
    const now = Math.floor(Date.now() / 1000);
    const withNotBefore = craftToken({ ...decodePart(user.token, 1), nbf: now - 5 });
    verifier.mockClear();
    await me(withNotBefore).expect(200);
    await me(withNotBefore).expect(200);
    expect(verifier).toHaveBeenCalledTimes(2);
  });
});

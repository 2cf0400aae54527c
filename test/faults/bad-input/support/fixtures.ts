import { createHash, createHmac } from 'node:crypto';
import { MAX_ID } from '../../../../src/common/validation.pipe';
import { TEST_JWT_SECRET } from '../../../support/test-app';
import { Account, Fixture } from './requests';

/*
 * The fixtures the generated requests name: real users, posts, sessions and tokens (their
 * values are looked up when a request is sent, see fixture-state.ts), and tokens forged from them.
 */

export const nowInSeconds = () => Math.floor(Date.now() / 1000);

export function base64url(text: string | Buffer): string {
  return Buffer.from(text).toString('base64url');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A JWT with any header and payload, its HMAC computed with `hash` and `secret`. */
export function signToken(header: object, payload: unknown, hash = 'sha256', secret = TEST_JWT_SECRET): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload) ?? 'null')}`;
  return `${signingInput}.${createHmac(hash, secret).update(signingInput).digest('base64url')}`;
}

export function claimsOf(account: Account, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: String(account.id),
    user_id: account.id,
    sid: account.sessionId,
    iat: nowInSeconds(),
    exp: nowInSeconds() + 1800,
    ...overrides,
  };
}

export const HS256 = { alg: 'HS256', typ: 'JWT' };

export const F = {
  alicePublishedPost: new Fixture("alice's published post", (s) => s.posts.alicePublished),
  aliceDraft: new Fixture("alice's draft", (s) => s.posts.aliceDraft),
  bobPublishedPost: new Fixture("bob's published post", (s) => s.posts.bobPublished),
  bobDraft: new Fixture("bob's draft", (s) => s.posts.bobDraft),
  aliceId: new Fixture("alice's id", (s) => s.alice.id),
  bobId: new Fixture("bob's id", (s) => s.bob.id),
  deletedUserId: new Fixture("a deleted user's id", (s) => s.deletedUser.id),
  aliceSession: new Fixture("alice's session id", (s) => s.alice.sessionId),
  bobSession: new Fixture("bob's session id", (s) => s.bob.sessionId),
  spentSession: new Fixture('the id of the session with a spent refresh token', (s) => s.spent.sessionId),
  aliceEmail: new Fixture("alice's e-mail", (s) => s.alice.email),
  aliceEmailShouted: new Fixture("alice's e-mail, upper-case and padded", (s) => ` ${s.alice.email.toUpperCase()} `),
  bobEmail: new Fixture("bob's e-mail", (s) => s.bob.email),
  aliceRefreshToken: new Fixture("alice's refresh token", (s) => s.alice.refreshToken),
  bobRefreshToken: new Fixture("bob's refresh token", (s) => s.bob.refreshToken),
  spentRefreshToken: new Fixture('a spent refresh token', (s) => s.spent.refreshToken),
  aliceBearer: new Fixture("alice's bearer token", (s) => `Bearer ${s.alice.token}`),
  bobBearer: new Fixture("bob's bearer token", (s) => `Bearer ${s.bob.token}`),
};

export const POST_IDS = [F.alicePublishedPost, F.aliceDraft, F.bobPublishedPost, F.bobDraft];
export const ALL_IDS = [...POST_IDS, F.aliceId, F.bobId, F.deletedUserId, F.aliceSession, F.bobSession, F.spentSession];

/** Tokens a thief or a confused client could send: each must be a 401, never a 500 or a 2xx. */
export const FORGED_BEARERS = [
  new Fixture("a deleted user's token", (s) => `Bearer ${s.deletedUser.token}`),
  new Fixture('a logged-out token', (s) => `Bearer ${s.loggedOutToken}`),
  new Fixture(
    "alice's claims with alg none",
    (s) => `Bearer ${base64url('{"alg":"none"}')}.${base64url(JSON.stringify(claimsOf(s.alice)))}.`,
  ),
  new Fixture(
    "alice's claims signed with another secret",
    (s) => `Bearer ${signToken(HS256, claimsOf(s.alice), 'sha256', 'not-the-secret-but-long-enough-0123456789abcdef')}`,
  ),
  new Fixture(
    "alice's claims signed HS512 with the secret",
    (s) => `Bearer ${signToken({ alg: 'HS512', typ: 'JWT' }, claimsOf(s.alice), 'sha512')}`,
  ),
  new Fixture(
    "alice's claims as RS256, HMAC'd with the secret",
    (s) => `Bearer ${signToken({ alg: 'RS256', typ: 'JWT' }, claimsOf(s.alice))}`,
  ),
  new Fixture("alice's token with bob's payload", (s) => {
    const [header, , signature] = s.alice.token.split('.');
    return `Bearer ${header}.${s.bob.token.split('.')[1]}.${signature}`;
  }),
  new Fixture(
    "alice's token without its signature",
    (s) => `Bearer ${s.alice.token.split('.').slice(0, 2).join('.')}.`,
  ),
  new Fixture(
    "alice's token, expired",
    (s) => `Bearer ${signToken(HS256, claimsOf(s.alice, { iat: nowInSeconds() - 7200, exp: nowInSeconds() - 3600 }))}`,
  ),
  new Fixture(
    'a token of a user that never existed',
    (s) => `Bearer ${signToken(HS256, claimsOf(s.alice, { sub: String(MAX_ID), user_id: MAX_ID }))}`,
  ),
  new Fixture(
    "alice's id with bob's session",
    (s) => `Bearer ${signToken(HS256, claimsOf(s.alice, { sid: s.bob.sessionId }))}`,
  ),
  new Fixture("alice's token, twice", (s) => `Bearer ${s.alice.token} ${s.alice.token}`),
  new Fixture("alice's token with a trailing dot", (s) => `Bearer ${s.alice.token}.`),
  new Fixture("alice's token with the scheme in lower case", (s) => `bearer ${s.alice.token}`),
  new Fixture("alice's token under the Basic scheme", (s) => `Basic ${s.alice.token}`),
];

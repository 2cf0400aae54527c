import { createHmac } from 'node:crypto';
import { TEST_JWT_SECRET } from './test-app';

const HMAC_OF: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512', RS256: 'sha256' };

export function encodePart(part: object): string {
  return Buffer.from(JSON.stringify(part)).toString('base64url');
}

/** The header (0) or the claims (1) of a JWT. */
export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A JWT signed by hand: `alg` only labels the header, the HMAC is what `HMAC_OF` maps it to. */
export function craftToken(payload: object, { alg = 'HS256', secret = TEST_JWT_SECRET } = {}): string {
  const signingInput = `${encodePart({ alg, typ: 'JWT' })}.${encodePart(payload)}`;
  return `${signingInput}.${createHmac(HMAC_OF[alg], secret).update(signingInput).digest('base64url')}`;
}

import { HttpStatus } from '@nestjs/common';
import { ProblemException } from '../problem';
import { MISSING_TOKEN_DETAIL } from './authenticated-user';

/**
 * The answer to every request to a protected route without a bearer token. Built once: it
 * never changes, and building an exception (its stack trace) per request was the largest
 * cost of the 401 path.
 */
export const MISSING_TOKEN = new ProblemException(HttpStatus.UNAUTHORIZED, MISSING_TOKEN_DETAIL, {
  'WWW-Authenticate': 'Bearer',
});

/** What passport-jwt's bearer extractor accepts: the scheme, white space, a token. */
const BEARER_TOKEN = /^bearer\s+\S/i;

/** Whether an Authorization header carries a bearer token for Passport to check. */
export function hasBearerToken(authorization: string | undefined): boolean {
  return authorization !== undefined && BEARER_TOKEN.test(authorization);
}

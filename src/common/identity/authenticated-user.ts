/** What the guards put on `request.user`: the caller, without any secret. */
export interface AuthenticatedUser {
  id: number;
  email: string;
  /** The handle, lower-case; null until set. */
  username: string | null;
  role: 'user' | 'admin';
  emailVerified: boolean;
  createdAt: Date;
  /** The session of the access token (absent while logging in). */
  sessionId?: number;
  /** While logging in: the version of the credentials the password was checked against. */
  credentialVersion?: number;
}

/** What a protected route answers (401) to a request without a bearer token. */
export const MISSING_TOKEN_DETAIL =
  'This route needs a bearer token: send the header "Authorization: Bearer <access_token>" with the access_token that POST /login returns.';

/** What a route that writes posts, votes or comments answers (403) with REQUIRE_VERIFIED_EMAIL=true. */
export const VERIFY_EMAIL_FIRST =
  'Verify your e-mail address first: open the link in the mail sent to it (or ask for a new one with ' +
  'POST /auth/verify-email/resend). Reading, logging in and the account routes work meanwhile.';

/** Where a request comes from, as recorded with a session. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/**
 * Where an account's activity event comes from: the request of the account's owner (its
 * address, user agent and session), or nothing of the kind when an admin acted.
 */
export interface ActivityOrigin {
  ip: string | null;
  userAgent: string | null;
  sessionId: number | null;
}

/** The origin of something the caller does in this request. */
export function originOf(client: ClientInfo, sessionId?: number | null): ActivityOrigin {
  return { ip: client.ip, userAgent: client.userAgent, sessionId: sessionId ?? null };
}

/** The origin of something an admin does to another account: none is shown to its owner. */
export const BY_AN_ADMIN: ActivityOrigin = { ip: null, userAgent: null, sessionId: null };

/** The claims of an access token. */
export interface AccessTokenPayload {
  sub: string;
  user_id: number;
  /** The session the token belongs to: logout and revocation end it at once. */
  sid: number;
  iat?: number;
  exp?: number;
}

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

/** The claims of an access token. */
export interface AccessTokenPayload {
  sub: string;
  user_id: number;
  /** The session the token belongs to: logout and revocation end it at once. */
  sid: number;
  iat?: number;
  exp?: number;
}

/** What the guards put on `request.user`: the caller, without any secret. */
export interface AuthenticatedUser {
  id: number;
  email: string;
  createdAt: Date;
  /** The session of the access token (absent while logging in). */
  sessionId?: number;
  /** While logging in: the version of the credentials the password was checked against. */
  credentialVersion?: number;
}

/** What a protected route answers (401) to a request without a bearer token. */
export const MISSING_TOKEN_DETAIL =
  'This route needs a bearer token: send the header "Authorization: Bearer <access_token>" with the access_token that POST /login returns.';

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

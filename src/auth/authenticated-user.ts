/** What the guards put on `request.user`: the caller, without any secret. */
export interface AuthenticatedUser {
  id: number;
  email: string;
  createdAt: Date;
}

/** The claims of an access token. */
export interface AccessTokenPayload {
  sub: string;
  user_id: number;
  iat?: number;
  exp?: number;
}

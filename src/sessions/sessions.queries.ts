import type { Statement } from '../database/sql';

const INSERT_SESSION_FOR_CURRENT_CREDENTIALS = `INSERT INTO sessions (user_id, refresh_token_hash, expires_at, user_agent, ip)
       SELECT id, $3, $4, $5, $6 FROM users WHERE id = $1 AND credential_version = $2 FOR SHARE
       RETURNING id`;

/**
 * A new session, only while the user exists with the credential version a password
 * check saw. One statement: FOR SHARE waits for a password change or a deletion in
 * progress on the user's row and then sees its outcome (no row, no session), and holds
 * either off until the session exists, so that it ends the session it raced.
 */
export function insertSessionForCurrentCredentials(session: {
  userId: number;
  credentialVersion: number;
  refreshTokenHash: string;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}): Statement {
  const { userId, credentialVersion, refreshTokenHash, expiresAt, userAgent, ip } = session;
  return {
    text: INSERT_SESSION_FOR_CURRENT_CREDENTIALS,
    values: [userId, credentialVersion, refreshTokenHash, expiresAt, userAgent, ip],
  };
}

/** The caller as the token check finds them. */
export interface SessionUserRow {
  id: number;
  email: string;
  username: string | null;
  role: 'user' | 'admin';
  email_verified: boolean;
  created_at: Date;
}

const FIND_LIVE_SESSION_USER = `SELECT u.id, u.email, u.username, u.role, u.email_verified_at IS NOT NULL AS email_verified, u.created_at
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()`;

/** The user of a live session: the one lookup the token check makes per request. */
export function findLiveSessionUser(sessionId: number, userId: number): Statement {
  return { text: FIND_LIVE_SESSION_USER, values: [sessionId, userId] };
}

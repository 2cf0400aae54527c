import type { Statement } from '../database/sql';

const INSERT_SESSION_FOR_CURRENT_CREDENTIALS = `WITH session AS (
         INSERT INTO sessions (user_id, refresh_token_hash, expires_at, user_agent, ip)
         SELECT id, $3, $4, $5, $6 FROM users
         WHERE id = $1 AND credential_version = $2 AND disabled_at IS NULL FOR SHARE
         RETURNING id, user_id, user_agent, ip)
       INSERT INTO activity_events (user_id, type, ip, user_agent, session_id)
       SELECT user_id, 'login', ip, user_agent, id FROM session
       RETURNING session_id AS id`;

/**
 * A new session and its `login` event, only while the user exists, is not disabled, and
 * has the credential version a password check saw. One statement: FOR SHARE waits for a
 * password change, a disabling or a deletion in progress on the user's row and then sees
 * its outcome (no row, no session, no event), and holds either off until the session
 * exists, so that it ends the session it raced.
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
  /** When the session expires (a cached check stops answering then). */
  expires_at: Date;
}

const FIND_LIVE_SESSION_USER = `SELECT u.id, u.email, u.username, u.role, u.email_verified_at IS NOT NULL AS email_verified, u.created_at,
         s.expires_at
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
         AND u.disabled_at IS NULL`;

/** The user of a live session: the one lookup the token check makes per request. */
export function findLiveSessionUser(sessionId: number, userId: number): Statement {
  return { name: 'sessions_find_live_user', text: FIND_LIVE_SESSION_USER, values: [sessionId, userId] };
}

const END_SESSION = `WITH ended AS (
         UPDATE sessions SET revoked_at = now()
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()
         RETURNING id, user_id)
       INSERT INTO activity_events (user_id, type, ip, user_agent, session_id)
       SELECT user_id, $3, $4, $5, id FROM ended
       RETURNING session_id`;

/** Ends one live session of the user and records why (`logout`, `session_ended`), in one statement. */
export function endSession(
  sessionId: number,
  userId: number,
  type: 'logout' | 'session_ended',
  client: { ip: string | null; userAgent: string | null },
): Statement {
  return { text: END_SESSION, values: [sessionId, userId, type, client.ip, client.userAgent] };
}

const REVOKE_REUSED_SESSION = `WITH revoked AS (
         UPDATE sessions SET revoked_at = now()
         WHERE previous_refresh_token_hash = $1 AND revoked_at IS NULL
           AND (rotated_at IS NULL OR rotated_at <= now() - make_interval(secs => $2))
         RETURNING id, user_id)
       INSERT INTO activity_events (user_id, type, ip, user_agent, session_id)
       SELECT user_id, 'refresh_reuse_detected', $3, $4, id FROM revoked
       RETURNING session_id AS id, user_id`;

/**
 * Ends the session whose spent refresh token was presented again after the grace window
 * (taken as theft) and records `refresh_reuse_detected`, in one statement.
 */
export function revokeReusedSession(
  presentedHash: string,
  graceSeconds: number,
  client: { ip: string | null; userAgent: string | null },
): Statement {
  return { text: REVOKE_REUSED_SESSION, values: [presentedHash, graceSeconds, client.ip, client.userAgent] };
}

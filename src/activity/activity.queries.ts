import type { Statement } from '../database/sql';

const RECORD_REFUSED_LOGIN = `INSERT INTO activity_events (user_id, type, ip, user_agent)
       SELECT id, $2::varchar, $3::varchar, $4::varchar FROM users WHERE id = $1
         AND NOT ($2::varchar = 'login_blocked' AND EXISTS (
           SELECT 1 FROM activity_events
           WHERE user_id = $1 AND type = 'login_blocked' AND ip IS NOT DISTINCT FROM $3::varchar
             AND created_at > now() - make_interval(secs => $5)))`;

/**
 * A refused login of an existing account (`login_failed`, `login_blocked`), in one
 * statement: nothing when the account is gone meanwhile, and one `login_blocked` per
 * address and window, however many attempts the limit refuses, so that a stranger
 * cannot bury the account's activity under refusals.
 */
export function recordRefusedLogin(
  userId: number,
  type: 'login_failed' | 'login_blocked',
  origin: { ip: string | null; userAgent: string | null },
  windowSeconds: number,
): Statement {
  return { text: RECORD_REFUSED_LOGIN, values: [userId, type, origin.ip, origin.userAgent, windowSeconds] };
}

const FORGET_OLD_EVENTS = `DELETE FROM activity_events
       WHERE id IN (SELECT id FROM activity_events
                    WHERE created_at < now() - make_interval(days => $1) LIMIT $2)`;

/** Up to `batch` events older than the retention: small deletes that each end well within the statement timeout. */
export function forgetOldEvents(days: number, batch: number): Statement {
  return { text: FORGET_OLD_EVENTS, values: [days, batch] };
}

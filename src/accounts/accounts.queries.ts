import type { Statement } from '../database/sql';

const TAKE_RESET_REQUESTS = `DELETE FROM password_reset_requests
       WHERE id IN (SELECT id FROM password_reset_requests ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING email, ip, user_agent`;

/**
 * Takes up to `limit` waiting password-reset requests, in the caller's transaction: SKIP
 * LOCKED leaves those another instance is taking to it, and the rows are gone for good
 * only if the tokens and mails written beside them commit.
 */
export function takeResetRequests(limit: number): Statement {
  return { text: TAKE_RESET_REQUESTS, values: [limit] };
}

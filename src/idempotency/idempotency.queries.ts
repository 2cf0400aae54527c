import type { Statement } from '../database/sql';

/** How long an unfinished claim holds off retries before another request may take it over. */
export const STALE_CLAIM_SECONDS = 60;
/** How long a key is honoured. */
export const KEEP_KEYS_HOURS = 24;

const CLAIM_KEY = `INSERT INTO idempotency_keys (user_id, key, request_hash)
       VALUES ($1, $2, $3)
       ON CONFLICT (user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, created_at = now(), completed_at = NULL,
             status_code = NULL, response_body = NULL, location = NULL
         WHERE idempotency_keys.created_at < now() - make_interval(hours => ${KEEP_KEYS_HOURS})
            OR (idempotency_keys.completed_at IS NULL
                AND idempotency_keys.request_hash = EXCLUDED.request_hash
                AND idempotency_keys.created_at < now() - make_interval(secs => ${STALE_CLAIM_SECONDS}))
       RETURNING created_at::text AS claimed_at`;

/**
 * Claims a key for a request: one statement, so that of many requests racing with one key
 * exactly one gets a row back. It also takes over a key older than 24 hours (forgotten,
 * even before the hourly cleanup ran) and, for the same request, a claim left unfinished
 * for a minute by an instance that died. `claimed_at` (as text, microseconds kept) fences
 * the later UPDATE or DELETE to this claim.
 */
export function claimKey(userId: number, key: string, requestHash: string): Statement {
  return { name: 'idempotency_claim', text: CLAIM_KEY, values: [userId, key, requestHash] };
}

export interface KeyRow {
  request_hash: string;
  completed: boolean;
  status_code: number | null;
  response_body: string | null;
  location: string | null;
}

/** The key's row as a request that lost the claim reads it. */
export function findKey(userId: number, key: string): Statement {
  return {
    text: `SELECT request_hash, completed_at IS NOT NULL AS completed, status_code, response_body, location
           FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
    values: [userId, key],
  };
}

/** Records the answer of the request that holds the claim. */
export function completeKey(
  userId: number,
  key: string,
  claimedAt: string,
  answer: { statusCode: number; body: string | null; location: string | null },
): Statement {
  return {
    text: `UPDATE idempotency_keys SET status_code = $4, response_body = $5, location = $6, completed_at = now()
           WHERE user_id = $1 AND key = $2 AND created_at = $3::timestamptz AND completed_at IS NULL`,
    values: [userId, key, claimedAt, answer.statusCode, answer.body, answer.location],
  };
}

/** Gives the claim of a request that failed back, so that a retry runs again. */
export function releaseKey(userId: number, key: string, claimedAt: string): Statement {
  return {
    text: `DELETE FROM idempotency_keys
           WHERE user_id = $1 AND key = $2 AND created_at = $3::timestamptz AND completed_at IS NULL`,
    values: [userId, key, claimedAt],
  };
}

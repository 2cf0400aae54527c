import type { Statement } from '../database/sql';

/** A mail a worker has taken: its lease runs until `next_attempt_at`. */
export interface ClaimedMailRow {
  id: string;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  attempts: number;
}

const CLAIM_DUE_MAILS = `UPDATE mail_outbox
       SET next_attempt_at = now() + $2::int * interval '1 millisecond', attempts = attempts + 1
       WHERE id IN (SELECT id FROM mail_outbox
                    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
                    ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, recipient, subject, text_body, html_body, attempts`;

/**
 * Takes up to `limit` due mails for this worker, in one short statement: SKIP LOCKED
 * passes over the rows another instance is taking at this moment, and moving
 * `next_attempt_at` a lease ahead keeps every other worker off them until then. A worker
 * that dies while sending leaves the mail to be taken again when the lease runs out.
 */
export function claimDueMails(limit: number, leaseMs: number): Statement {
  return { text: CLAIM_DUE_MAILS, values: [limit, leaseMs] };
}

const RENEW_LEASE = `UPDATE mail_outbox
       SET next_attempt_at = now() + $3::int * interval '1 millisecond'
       WHERE id = $1 AND attempts = $2 AND sent_at IS NULL`;

/**
 * The worker of attempt `attempts` is still sending: its lease runs another `leaseMs`.
 * Renewed while the send lasts, so that however slow the SMTP server, no other instance
 * takes the mail while this one may still hand it over; a dead worker renews nothing.
 */
export function renewLease(id: string, attempts: number, leaseMs: number): Statement {
  return { text: RENEW_LEASE, values: [id, attempts, leaseMs] };
}

const RECORD_SENT = `UPDATE mail_outbox
       SET sent_at = now(), text_body = NULL, html_body = NULL, last_error = NULL
       WHERE id = $1 AND sent_at IS NULL`;

/** The SMTP server accepted the mail: never again, and its links are forgotten. */
export function recordSent(id: string): Statement {
  return { text: RECORD_SENT, values: [id] };
}

const RECORD_FAILURE = `UPDATE mail_outbox
       SET last_error = $3,
           next_attempt_at = now() + $4::int * interval '1 millisecond',
           failed_at = CASE WHEN now() + $4::int * interval '1 millisecond' > created_at + $5::int * interval '1 millisecond'
                            THEN now() END
       WHERE id = $1 AND attempts = $2 AND sent_at IS NULL
       RETURNING failed_at IS NOT NULL AS given_up`;

/**
 * The attempt failed: try again after `retryInMs`, or give up when that would be later
 * than `giveUpAfterMs` after the mail was written. Only the worker of the latest attempt
 * (`attempts`) records its outcome.
 */
export function recordFailure(
  id: string,
  attempts: number,
  error: string,
  retryInMs: number,
  giveUpAfterMs: number,
): Statement {
  return { text: RECORD_FAILURE, values: [id, attempts, error.slice(0, 500), retryInMs, giveUpAfterMs] };
}

const FORGET_OLD_MAILS = `DELETE FROM mail_outbox
       WHERE sent_at < now() - interval '7 days' OR failed_at < now() - interval '30 days'`;

/** Sent mails are kept a week (their bodies are gone already), failed ones a month. */
export function forgetOldMails(): Statement {
  return { text: FORGET_OLD_MAILS, values: [] };
}

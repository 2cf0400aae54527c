import type { Statement } from './statement';

/**
 * After a user's write has committed: where the primary's WAL stands now, kept as that
 * user's position (never moved back by a slower request). The insert position is past
 * the commit record whatever `synchronous_commit` says; the user's row is locked FOR KEY
 * SHARE first, so an account deleted meanwhile leaves nothing to record instead of a
 * foreign-key error.
 */
const RECORD_WRITE_POSITION = `
  INSERT INTO user_write_positions (user_id, lsn)
  SELECT id, pg_current_wal_insert_lsn() FROM users WHERE id = $1 FOR KEY SHARE
  ON CONFLICT (user_id) DO UPDATE SET lsn = GREATEST(user_write_positions.lsn, excluded.lsn)`;

export function recordWritePosition(userId: number): Statement {
  return { name: 'replicas_record_write', text: RECORD_WRITE_POSITION, values: [userId] };
}

/** One primary-key lookup on the primary: no row, the user has written nothing since replicas were set up. */
const FIND_WRITE_POSITION = `SELECT lsn::text AS lsn FROM user_write_positions WHERE user_id = $1`;

export function findWritePosition(userId: number): Statement {
  return { name: 'replicas_find_write', text: FIND_WRITE_POSITION, values: [userId] };
}

/** On the primary: where writes stand. */
export const CURRENT_WAL_POSITION: Statement = {
  text: 'SELECT pg_current_wal_lsn()::text AS lsn',
  values: [],
};

/** On a standby: how far it has replayed (null on a server that is not a standby). */
export const REPLAYED_WAL_POSITION: Statement = {
  text: 'SELECT pg_last_wal_replay_lsn()::text AS lsn',
  values: [],
};

import { HttpStatus, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { accountGoneException, ProblemException } from '../common/problem';
import { FOREIGN_KEY_VIOLATION, isPostgresError } from '../database/postgres-errors';
import { Sql } from '../database/sql';
import { IdempotencyKey } from './idempotency-key.entity';
import { claimKey, completeKey, findKey, KEEP_KEYS_HOURS, type KeyRow, releaseKey } from './idempotency.queries';

/** The request holds the key: run it, then `complete` or `release`. */
export interface Claim {
  kind: 'claimed';
  userId: number;
  key: string;
  claimedAt: string;
}

/** The first request with the key completed: its answer, to send again. */
export interface Replay {
  kind: 'replay';
  statusCode: number;
  body: unknown;
  location: string | null;
}

export const KEY_IN_PROGRESS =
  'A request with this Idempotency-Key is still being carried out: retry later (after Retry-After seconds) ' +
  'to get its answer.';
export const KEY_REUSED =
  'This Idempotency-Key was used with a different request (method, path or body): send the same request again, ' +
  'or use a new key for a new request.';

@Injectable()
export class IdempotencyService {
  constructor(
    private readonly sql: Sql,
    @InjectRepository(IdempotencyKey) private readonly keys: Repository<IdempotencyKey>,
  ) {}

  /** Claims the key for this request, or answers what a retry gets: a replay, 409 or 422. */
  async claim(userId: number, key: string, requestHash: string): Promise<Claim | Replay> {
    // A claim released by a failed request between our INSERT and SELECT: claim again.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const [claimed] = await this.claimRow(userId, key, requestHash);
      if (claimed) {
        return { kind: 'claimed', userId, key, claimedAt: claimed.claimed_at };
      }
      const [row] = await this.sql.rows<KeyRow>(findKey(userId, key));
      if (!row) {
        continue;
      }
      if (row.request_hash !== requestHash) {
        throw new ProblemException(HttpStatus.UNPROCESSABLE_ENTITY, KEY_REUSED);
      }
      if (!row.completed || row.status_code === null) {
        break;
      }
      return {
        kind: 'replay',
        statusCode: row.status_code,
        body: row.response_body === null ? undefined : JSON.parse(row.response_body),
        location: row.location,
      };
    }
    throw new ProblemException(HttpStatus.CONFLICT, KEY_IN_PROGRESS, { 'Retry-After': '1' });
  }

  async complete(claim: Claim, answer: { statusCode: number; body: unknown; location: string | null }): Promise<void> {
    await this.sql.affected(
      completeKey(claim.userId, claim.key, claim.claimedAt, {
        statusCode: answer.statusCode,
        body: answer.body === undefined ? null : JSON.stringify(answer.body),
        location: answer.location,
      }),
    );
  }

  async release(claim: Claim): Promise<void> {
    await this.sql.affected(releaseKey(claim.userId, claim.key, claim.claimedAt));
  }

  /** Forgets keys claimed more than 24 hours ago (hourly, on every instance). */
  @Interval('idempotency-keys-cleanup', 60 * 60 * 1000)
  async removeOldKeys(): Promise<number> {
    const result = await this.keys
      .createQueryBuilder()
      .delete()
      .from(IdempotencyKey)
      .where(`created_at < now() - make_interval(hours => ${KEEP_KEYS_HOURS})`)
      .execute();
    return result.affected ?? 0;
  }

  private async claimRow(userId: number, key: string, requestHash: string): Promise<{ claimed_at: string }[]> {
    try {
      return await this.sql.rows<{ claimed_at: string }>(claimKey(userId, key, requestHash));
    } catch (error) {
      // The account was deleted after the token check.
      if (isPostgresError(error, FOREIGN_KEY_VIOLATION)) {
        throw accountGoneException();
      }
      throw error;
    }
  }
}

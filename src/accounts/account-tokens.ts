import { HttpStatus, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, In, IsNull, MoreThan, Repository } from 'typeorm';
import { hashSecretToken, newSecretToken } from '../common/identity/secret-token';
import { ProblemException } from '../common/problem';
import { User } from '../users/user.entity';
import { AccountToken, type AccountTokenPurpose } from './account-token.entity';

/** What a spent token proves: that its holder reads mail at `email` for this user. */
export interface SpentToken {
  userId: number;
  email: string;
}

export function badLinkException(purpose: AccountTokenPurpose): ProblemException {
  const again =
    purpose === 'password_reset'
      ? 'request a new one with POST /auth/password-reset'
      : 'ask for a new one with POST /auth/verify-email/resend';
  return new ProblemException(
    HttpStatus.BAD_REQUEST,
    `This token is not valid: unknown, already used, replaced by a newer one, or expired; ${again}.`,
  );
}

/** The single-use tokens of e-mail verification and password reset. */
@Injectable()
export class AccountTokens {
  constructor(@InjectRepository(AccountToken) private readonly tokens: Repository<AccountToken>) {}

  /**
   * A new token for the user, in the caller's transaction; the older unused ones of its
   * purpose are spent. The user's row is locked first, so that two tokens issued at once
   * (two instances, or an address change) take turns and the later one spends the
   * earlier; the partial unique index `account_tokens_one_unused` makes it a rule.
   */
  async issue(
    manager: EntityManager,
    token: { userId: number; purpose: AccountTokenPurpose; email: string; ttlMs: number },
  ): Promise<string> {
    await manager.findOne(User, {
      where: { id: token.userId },
      select: { id: true },
      lock: { mode: 'for_no_key_update' },
    });
    await this.spendAll(manager, token.userId, [token.purpose]);
    const secret = newSecretToken();
    await manager.insert(AccountToken, {
      userId: token.userId,
      purpose: token.purpose,
      email: token.email,
      tokenHash: hashSecretToken(secret),
      expiresAt: new Date(Date.now() + token.ttlMs),
    });
    return secret;
  }

  /**
   * Spends the token, in the caller's transaction: a conditional UPDATE, so of two
   * requests with one token exactly one gets it. Undefined when it is unknown, spent or expired.
   */
  async spend(manager: EntityManager, secret: string, purpose: AccountTokenPurpose): Promise<SpentToken | undefined> {
    const result = await manager
      .createQueryBuilder()
      .update(AccountToken)
      .set({ usedAt: () => 'now()' })
      .where('token_hash = :hash', { hash: hashSecretToken(secret) })
      .andWhere('purpose = :purpose', { purpose })
      .andWhere('used_at IS NULL')
      .andWhere('expires_at > now()')
      .returning('user_id, email')
      .execute();
    const row = (result.raw as { user_id: number; email: string }[])[0];
    return row && { userId: row.user_id, email: row.email };
  }

  /** Whether the token could be spent now (the reset page shows its form only then). */
  isUsable(secret: string, purpose: AccountTokenPurpose): Promise<boolean> {
    return this.tokens.exists({
      where: { tokenHash: hashSecretToken(secret), purpose, usedAt: IsNull(), expiresAt: MoreThan(new Date()) },
    });
  }

  /** Spends every unused token of these purposes (a newer token, a new address, a new password). */
  async spendAll(manager: EntityManager, userId: number, purposes: AccountTokenPurpose[]): Promise<void> {
    await manager.update(AccountToken, { userId, purpose: In(purposes), usedAt: IsNull() }, { usedAt: () => 'now()' });
  }

  /** Tokens are kept a day past their use or expiry, then forgotten. */
  @Interval('account-tokens-cleanup', 60 * 60 * 1000)
  async forgetOld(): Promise<number> {
    const result = await this.tokens
      .createQueryBuilder()
      .delete()
      .where("expires_at < now() - interval '1 day'")
      .orWhere("used_at < now() - interval '1 day'")
      .execute();
    return result.affected ?? 0;
  }
}

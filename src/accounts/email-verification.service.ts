import { Inject, Injectable } from '@nestjs/common';
import { SessionsService } from '../sessions/sessions.service';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { type DataSource, type EntityManager, IsNull } from 'typeorm';
import { ActivityService } from '../activity/activity.service';
import {
  type ActivityOrigin,
  type AuthenticatedUser,
  type ClientInfo,
  originOf,
} from '../common/identity/authenticated-user';
import { accountGoneException } from '../common/problem';
import { AUTH_CONFIG, type AuthConfig } from '../config/configuration';
import { MailOutbox } from '../mail/mail-outbox';
import { consumeOrRefuse, Counters } from '../rate-limit/counters';
import { User } from '../users/user.entity';
import { verificationMail } from './account-mails';
import { AccountTokens, badLinkException } from './account-tokens';

/** Resend requests per account and hour. */
export const RESENDS_PER_HOUR = 5;

/** E-mail verification: the token and its mail, the check of the token, and resending. */
@Injectable()
export class EmailVerificationService {
  private readonly resends: RateLimiterAbstract;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tokens: AccountTokens,
    private readonly outbox: MailOutbox,
    private readonly activity: ActivityService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly sessions: SessionsService,
    counters: Counters,
  ) {
    this.resends = counters.fixedWindow('verification-resends', RESENDS_PER_HOUR, 3600);
  }

  /** A new verification token for the address and its mail, in the caller's transaction (older links stop working). */
  async sendVerification(manager: EntityManager, userId: number, email: string, origin: ActivityOrigin): Promise<void> {
    const hours = this.config.emailVerificationTtlMs / 3_600_000;
    const token = await this.tokens.issue(manager, {
      userId,
      purpose: 'email_verification',
      email,
      ttlMs: this.config.emailVerificationTtlMs,
    });
    const link = `${this.config.publicUrl}/auth/verify-email?token=${token}`;
    await this.outbox.enqueue(manager, verificationMail(email, link, hours));
    await this.activity.record(manager, userId, 'email_verification_sent', origin);
  }

  /** The account's address changed (in the caller's transaction): links sent to the old one die, the new one gets a mail. */
  async addressChanged(manager: EntityManager, userId: number, email: string, origin: ActivityOrigin): Promise<void> {
    await this.tokens.spendAll(manager, userId, ['email_verification', 'password_reset']);
    await this.sendVerification(manager, userId, email, origin);
  }

  /** The password changed (in the caller's transaction): reset links sent before stop working. */
  async passwordChanged(manager: EntityManager, userId: number): Promise<void> {
    await this.tokens.spendAll(manager, userId, ['password_reset']);
  }

  /** Sends the mails just committed now rather than at the next poll. */
  mailNow(): void {
    this.outbox.kick();
  }

  /** Spends the token and marks its address verified, if it is still the account's address. */
  async verify(token: string, client: ClientInfo): Promise<void> {
    const userId = await this.dataSource.transaction(async (manager) => {
      const spent = await this.tokens.spend(manager, token, 'email_verification');
      if (!spent) {
        throw badLinkException('email_verification');
      }
      const verified = await manager.update(
        User,
        { id: spent.userId, email: spent.email, emailVerifiedAt: IsNull() },
        { emailVerifiedAt: () => 'now()' },
      );
      if (verified.affected) {
        await this.activity.record(manager, spent.userId, 'email_verified', originOf(client));
      }
      return spent.userId;
    });
    // Their tokens now carry a verified address (REQUIRE_VERIFIED_EMAIL).
    this.sessions.forgetCached(userId);
  }

  /** A new link for the caller's address: no mail when it is verified already; at most 5 requests an hour. */
  async resend(caller: AuthenticatedUser, client: ClientInfo): Promise<void> {
    await consumeOrRefuse(
      this.resends,
      // By address, not id: ids repeat across databases that share one Redis.
      createHash('sha256').update(caller.email).digest('base64url'),
      `At most ${RESENDS_PER_HOUR} verification mails an hour can be asked for`,
    );
    const sent = await this.dataSource.transaction(async (manager) => {
      // FOR UPDATE: an address change in flight finishes first, and the mail goes to the address it leaves.
      const user = await manager.findOne(User, { where: { id: caller.id }, lock: { mode: 'for_no_key_update' } });
      if (!user) {
        throw accountGoneException();
      }
      if (user.emailVerifiedAt) {
        return false;
      }
      await this.sendVerification(manager, user.id, user.email, originOf(client, caller.sessionId));
      return true;
    });
    if (sent) {
      this.mailNow();
    }
  }
}

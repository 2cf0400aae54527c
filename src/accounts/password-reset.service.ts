import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hash } from 'bcrypt';
import { createHash } from 'node:crypto';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { type DataSource, IsNull } from 'typeorm';
import { ActivityService } from '../activity/activity.service';
import { BackgroundTask } from '../common/background-task';
import { type ClientInfo, originOf } from '../common/identity/authenticated-user';
import { AUTH_CONFIG, type AuthConfig, MAIL_CONFIG, type MailConfig } from '../config/configuration';
import { MailOutbox } from '../mail/mail-outbox';
import { consumeOrRefuse, Counters } from '../rate-limit/counters';
import { SessionsService } from '../sessions/sessions.service';
import { User } from '../users/user.entity';
import { passwordResetMail } from './account-mails';
import { AccountTokens, badLinkException } from './account-tokens';
import { takeResetRequests } from './accounts.queries';
import { PasswordResetRequest } from './password-reset-request.entity';

/** Requests per e-mail address and hour, whether an account uses it or not. */
export const RESET_REQUESTS_PER_HOUR = 5;
/** Requests one instance turns into mails at a time. */
const BATCH = 20;

export const RESET_REQUESTED_MESSAGE =
  'If an account uses this address, a mail with a link to choose a new password is on its way; the link works ' +
  'once, for a limited time. Nothing arrives? Check the spelling and the spam folder, then ask again.';

/**
 * Password reset. A request only counts against the address's limit and writes a row,
 * the same work whether an account uses the address or not, so neither the answer nor
 * its time tells; the background work of any instance then writes the token and its
 * mail (in one transaction) for an address that has an account, and nothing otherwise.
 */
@Injectable()
export class PasswordResetService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('PasswordReset');
  private readonly requestsPerAddress: RateLimiterAbstract;
  private readonly worker: BackgroundTask;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tokens: AccountTokens,
    private readonly outbox: MailOutbox,
    private readonly sessions: SessionsService,
    private readonly activity: ActivityService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(MAIL_CONFIG) mailConfig: MailConfig,
    counters: Counters,
  ) {
    this.requestsPerAddress = counters.fixedWindow('password-reset-requests', RESET_REQUESTS_PER_HOUR, 3600);
    this.worker = new BackgroundTask(
      () => this.answerRequests(),
      mailConfig.pollIntervalMs,
      (error) => this.logger.warn(`Password-reset requests could not be read: ${String(error)}; trying again shortly`),
    );
  }

  onApplicationBootstrap(): void {
    this.worker.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.stop();
  }

  async request(email: string, client: ClientInfo): Promise<void> {
    await consumeOrRefuse(
      this.requestsPerAddress,
      createHash('sha256').update(email).digest('base64url'),
      `At most ${RESET_REQUESTS_PER_HOUR} password resets an hour can be asked for one address`,
    );
    await this.dataSource.getRepository(PasswordResetRequest).insert({
      email,
      ip: client.ip?.slice(0, 64) ?? null,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
    });
    this.worker.kick();
  }

  /** Whether the reset page should offer its form for this token. */
  isUsable(token: string): Promise<boolean> {
    return this.tokens.isUsable(token, 'password_reset');
  }

  /**
   * Sets the new password: spends the token, bumps the credential version (a login whose
   * check began before now starts no session), ends every session of the account, and
   * counts the address as verified (the mail reached it), in one transaction.
   */
  async confirm(token: string, newPassword: string, client: ClientInfo): Promise<void> {
    // Before the costly hash: most bad tokens end here.
    if (!(await this.isUsable(token))) {
      throw badLinkException('password_reset');
    }
    const passwordHash = await hash(newPassword, this.config.bcryptRounds);
    const userId = await this.dataSource.transaction(async (manager) => {
      const spent = await this.tokens.spend(manager, token, 'password_reset');
      if (!spent) {
        throw badLinkException('password_reset');
      }
      await manager.update(
        User,
        { id: spent.userId },
        { passwordHash, credentialVersion: () => 'credential_version + 1' },
      );
      // The mail reached the address it was sent to: that address, if it is still the account's, is verified.
      await manager.update(
        User,
        { id: spent.userId, email: spent.email, emailVerifiedAt: IsNull() },
        { emailVerifiedAt: () => 'now()' },
      );
      await this.sessions.revokeAll(spent.userId, manager);
      await this.activity.record(manager, spent.userId, 'password_reset', originOf(client));
      return spent.userId;
    });
    this.sessions.forgetCached(userId);
  }

  /** Turns waiting requests into tokens and mails; a request for an address no account uses just goes. */
  private async answerRequests(): Promise<void> {
    let taken: number;
    do {
      const minutes = this.config.passwordResetTtlMs / 60_000;
      taken = await this.dataSource.transaction(async (manager) => {
        const { text, values } = takeResetRequests(BATCH);
        // For a DELETE, TypeORM answers [rows, count].
        type Request = { email: string; ip: string | null; user_agent: string | null };
        const [requests] = await manager.query<[Request[], number]>(text, values);
        for (const { email, ip, user_agent: userAgent } of requests) {
          // Locked: an address change in flight finishes first, and this one sees the address it leaves.
          const user = await manager
            .getRepository(User)
            .createQueryBuilder('user')
            .where('lower(user.email) = :email', { email })
            .setLock('for_no_key_update')
            .getOne();
          if (user) {
            const secret = await this.tokens.issue(manager, {
              userId: user.id,
              purpose: 'password_reset',
              email: user.email,
              ttlMs: this.config.passwordResetTtlMs,
            });
            const link = `${this.config.publicUrl}/auth/password-reset?token=${secret}`;
            await this.outbox.enqueue(manager, passwordResetMail(user.email, link, minutes));
            await this.activity.record(manager, user.id, 'password_reset_requested', {
              ip,
              userAgent,
              sessionId: null,
            });
          }
        }
        return requests.length;
      });
      if (taken > 0) {
        this.outbox.kick();
      }
    } while (taken === BATCH);
  }
}

import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { EntityManager } from 'typeorm';
import { BackgroundTask } from '../common/background-task';
import { MAIL_CONFIG, type MailConfig } from '../config/configuration';
import { Sql } from '../database/sql';
import {
  type ClaimedMailRow,
  claimDueMails,
  forgetOldMails,
  recordFailure,
  recordSent,
  renewLease,
} from './mail.queries';
import { type Mail, MailTransport } from './mail-transport';
import { OutboxMail } from './outbox-mail.entity';

/** How long a mail is tried before it is given up: while the SMTP server is down or refuses it. */
export const MAIL_GIVE_UP_MS = 24 * 60 * 60 * 1000;
/** The first retry after 2 s, then twice as long each time, at most every 15 minutes. */
const FIRST_RETRY_MS = 2_000;
const LONGEST_RETRY_MS = 15 * 60 * 1000;
/** Mails one worker takes at a time. */
const BATCH = 10;

export function retryDelayMs(attempts: number): number {
  return Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(20, Math.max(0, attempts - 1)));
}

/**
 * The mail path that loses nothing. `enqueue` writes a mail in the caller's transaction,
 * so it exists exactly when what it announces (a token) does. Every instance runs the
 * worker: it takes due mails with FOR UPDATE SKIP LOCKED and a lease (see
 * `claimDueMails`), sends them outside any transaction, and records the outcome: sent
 * (never sent again), or a retry with backoff for up to 24 hours.
 */
@Injectable()
export class MailOutbox implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('MailOutbox');
  private readonly worker: BackgroundTask;
  /** Accepted by the SMTP server, but the database did not take the note yet: recorded first on the next run. */
  private readonly sentUnrecorded = new Set<string>();

  constructor(
    private readonly sql: Sql,
    private readonly transport: MailTransport,
    @Inject(MAIL_CONFIG) private readonly config: MailConfig,
  ) {
    this.worker = new BackgroundTask(
      () => this.sendDueMails(),
      config.pollIntervalMs,
      (error) => this.logger.warn(`The mail outbox could not be read: ${describe(error)}; trying again shortly`),
    );
  }

  /** Writes the mail in the caller's transaction; `kick()` once it has committed sends it at once. */
  async enqueue(manager: EntityManager, mail: Mail): Promise<void> {
    await manager.insert(OutboxMail, {
      recipient: mail.to,
      subject: mail.subject,
      textBody: mail.text,
      htmlBody: mail.html,
    });
  }

  /** Sends what is due now rather than at the next poll. */
  kick(): void {
    this.worker.kick();
  }

  onApplicationBootstrap(): void {
    this.worker.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.stop();
    // Before the pool closes: accepted mails whose note failed are recorded now, or sent again later.
    await this.recordUnrecorded().catch((error: unknown) =>
      this.logger.error(
        `Sent mails could not be recorded before shutdown; they will be sent again: ${describe(error)}`,
      ),
    );
    this.transport.close();
  }

  @Interval('mail-outbox-cleanup', 60 * 60 * 1000)
  async forgetOldMails(): Promise<void> {
    await this.sql.rows(forgetOldMails());
  }

  private async recordUnrecorded(): Promise<void> {
    for (const id of this.sentUnrecorded) {
      await this.sql.rows(recordSent(id));
      this.sentUnrecorded.delete(id);
    }
  }

  private async sendDueMails(): Promise<void> {
    await this.recordUnrecorded();
    let claimed: ClaimedMailRow[];
    do {
      claimed = await this.sql.rows<ClaimedMailRow>(claimDueMails(BATCH, this.config.leaseMs));
      await Promise.all(claimed.map((mail) => this.sendOne(mail)));
      // On shutdown the batch in hand is finished and recorded; the rest waits for another instance.
    } while (claimed.length === BATCH && !this.worker.stopping);
  }

  /** Hands the mail to the transport while renewing its lease, so no other instance takes it meanwhile. */
  private async sendWithLease(mail: ClaimedMailRow): Promise<void> {
    const renewal = setInterval(
      () => {
        this.sql.rows(renewLease(mail.id, mail.attempts, this.config.leaseMs)).catch((error: unknown) => {
          this.logger.warn(`The lease of mail ${mail.id} could not be renewed: ${describe(error)}`);
        });
      },
      Math.max(500, Math.floor(this.config.leaseMs / 3)),
    );
    try {
      await this.transport.send({
        to: mail.recipient,
        subject: mail.subject,
        text: mail.text_body,
        html: mail.html_body,
      });
    } finally {
      clearInterval(renewal);
    }
  }

  private async sendOne(mail: ClaimedMailRow): Promise<void> {
    try {
      await this.sendWithLease(mail);
    } catch (error) {
      const retryInMs = retryDelayMs(mail.attempts);
      const [outcome] = await this.sql.rows<{ given_up: boolean }>(
        recordFailure(mail.id, mail.attempts, describe(error), retryInMs, MAIL_GIVE_UP_MS),
      );
      if (!outcome) {
        this.logger.warn(
          `Mail ${mail.id} (attempt ${mail.attempts}) was not sent: ${describe(error)}; a later attempt has it`,
        );
      } else if (outcome.given_up) {
        this.logger.error(`Mail ${mail.id} could not be sent for 24 hours and is given up: ${describe(error)}`);
      } else {
        this.logger.warn(
          `Mail ${mail.id} (attempt ${mail.attempts}) was not sent: ${describe(error)}; next try in ${Math.round(retryInMs / 1000)} s`,
        );
      }
      return;
    }
    try {
      await this.sql.rows(recordSent(mail.id));
      this.logger.log(`Mail ${mail.id} sent (attempt ${mail.attempts})`);
    } catch (error) {
      // The note is retried on the next run and at shutdown; until then the lease keeps others off it.
      this.sentUnrecorded.add(mail.id);
      this.logger.warn(`Mail ${mail.id} was sent, but that could not be recorded yet: ${describe(error)}`);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import { MAIL_CONFIG, type MailConfig } from '../config/configuration';

/** A mail as the outbox keeps it: a plain-text part and an HTML part saying the same. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Hands a mail to the SMTP server of SMTP_URL (nodemailer; resolves once the server has
 * accepted it), or, without SMTP_URL (refused in production), writes it to the log, so
 * that a developer can follow the links.
 */
@Injectable()
export class MailTransport {
  private readonly logger = new Logger('Mail');
  private readonly smtp?: ReturnType<typeof createTransport>;

  constructor(@Inject(MAIL_CONFIG) private readonly config: MailConfig) {
    if (config.smtpUrl) {
      // A server that stops answering is given up after a while; the lease is renewed meanwhile.
      const waitMs = Math.max(1_000, Math.floor(config.leaseMs / 2));
      this.smtp = createTransport(
        { url: config.smtpUrl, connectionTimeout: waitMs, greetingTimeout: waitMs, socketTimeout: waitMs },
        { from: config.from },
      );
    }
  }

  get writesToLog(): boolean {
    return !this.smtp;
  }

  async send(mail: Mail): Promise<void> {
    if (!this.smtp) {
      this.logger.log(
        `Mail to ${mail.to} written here instead of sent (SMTP_URL is not set). Subject: ${mail.subject}\n${mail.text}`,
      );
      return;
    }
    await this.smtp.sendMail({ to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
  }

  close(): void {
    this.smtp?.close();
  }
}

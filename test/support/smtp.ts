import { simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A mail the test SMTP server accepted, parsed. */
export interface ReceivedMail {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * A real SMTP server inside the test (smtp-server, plain SMTP without STARTTLS or AUTH),
 * collecting every mail it accepts. It can be stopped and started again on the same port
 * (a mail server that is down for a while), and told to hold the DATA of the next mails
 * (to kill the sender while it waits).
 */
export class TestSmtpServer {
  readonly received: ReceivedMail[] = [];
  /** Connections whose DATA arrived (accepted or not): each try of the sender. */
  attempts = 0;
  private server?: SMTPServer;
  private holdMs = 0;
  private waiters: (() => void)[] = [];
  /** Sessions whose connection closed: a held mail of one of them is never accepted. */
  private readonly closed = new Set<string>();

  private constructor(public port: number) {}

  /** Starts on a free port (or `port`). */
  static async start(port = 0): Promise<TestSmtpServer> {
    const smtp = new TestSmtpServer(port);
    await smtp.listen();
    return smtp;
  }

  /** The URL the app gets as SMTP_URL. */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Holds every DATA for `ms` before accepting it (0: accept at once). */
  holdData(ms: number): void {
    this.holdMs = ms;
  }

  async listen(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onClose: (session) => {
        this.closed.add(session.id);
      },
      onData: (stream, session, callback) => {
        this.attempts += 1;
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const accept = async () => {
            if (this.closed.has(session.id)) {
              return; // the sender went away while the mail was held: it was never accepted
            }
            const mail = await simpleParser(Buffer.concat(chunks));
            this.received.push({
              to: session.envelope.rcptTo.map((address) => address.address).join(','),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
            });
            callback();
            for (const wake of this.waiters.splice(0)) {
              wake();
            }
          };
          const hold = this.holdMs;
          if (hold > 0) {
            setTimeout(() => void accept(), hold);
          } else {
            void accept();
          }
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening (a mail server going down); smtp-server closes connections still open within 30 s. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** The mails sent to `address` so far. */
  mailsTo(address: string): ReceivedMail[] {
    return this.received.filter((mail) => mail.to.toLowerCase() === address.toLowerCase());
  }

  /** Waits until `count` mails went to `address` (or fails after `timeoutMs`), and returns them. */
  async waitForMails(address: string, count = 1, timeoutMs = 15_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.mailsTo(address).length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `expected ${count} mail(s) to ${address} within ${timeoutMs} ms, got ${this.mailsTo(address).length}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.mailsTo(address);
  }
}

/** The link of a mail's plain-text part that starts with `prefix` (e.g. `${PUBLIC_URL}/auth/verify-email`). */
export function linkIn(mail: ReceivedMail, prefix: string): string {
  const link = mail.text.split(/\s+/).find((word) => word.startsWith(prefix));
  if (!link) {
    throw new Error(`no link starting with ${prefix} in the mail "${mail.subject}":\n${mail.text}`);
  }
  return link;
}

/** The `token` parameter of a link. */
export function tokenOf(link: string): string {
  const token = new URL(link).searchParams.get('token');
  if (!token) {
    throw new Error(`no token in ${link}`);
  }
  return token;
}

import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { TestSmtpServer } from '../support/smtp';
import { createTestDatabase } from '../support/test-app';
import { AppProcess, killAllAppProcesses, sleep, withLogsOnFailure } from './support/app-process';
import { expectStatus, FAULTS_PASSWORD, HttpClient, mapConcurrently } from './support/load';

const VERIFICATION_SUBJECT = 'Confirm your e-mail address';
/** An instance that took a mail and died leaves it to the others after this long. */
const LEASE_SECONDS = 3;
/** Longer than any wait of the sender: the held DATA of the killed instance would come after the test. */
const HOLD_MS = 20_000;
const MAILS = 30;

interface OutboxRow {
  id: string;
  attempts: number;
  sent_at: Date | null;
  failed_at: Date | null;
  text_body: string | null;
  html_body: string | null;
  last_error: string | null;
}

/** Polls `condition` until it holds, failing with `what` after `timeoutMs`. */
async function waitUntil(what: string, timeoutMs: number, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}

/** The log lines of an instance that say a try to send a mail failed. */
function failedTries(app: AppProcess): string[] {
  return app
    .logTail(400)
    .split('\n')
    .filter((line) => /Mail \d+ \(attempt \d+\) was not sent/.test(line));
}

/**
 * The mail outbox of the built app (production mode) against a real SMTP server that goes
 * down, holds a mail while its sender is killed, and takes many mails from two instances
 * of one database: no mail is lost, and none is sent twice.
 */
describe('The mail outbox of the built app: a down SMTP server, a killed sender, two senders', () => {
  let smtp: TestSmtpServer;
  let db: Pool;
  let dropDatabase: (() => Promise<void>) | undefined;
  let env: Record<string, string>;
  const apps: AppProcess[] = [];
  const client = new HttpClient({ timeoutMs: 15_000 });

  const email = (label: string) => `${label}-${randomBytes(4).toString('hex')}@example.com`;
  const withLogs = (body: () => Promise<void>) => () => withLogsOnFailure(() => apps, body);

  /** instance A, instance B, ... in the order they start (a log tail says which is which). */
  const nextName = () => `instance ${String.fromCharCode(65 + apps.length)}`;

  /** An instance of the built app on the shared database, sending through the test SMTP server. */
  async function startInstance(name: string): Promise<AppProcess> {
    const app = await AppProcess.start({ name, env });
    apps.push(app);
    return app;
  }

  /** An instance that is still running, started when there is none. */
  async function runningInstance(): Promise<AppProcess> {
    return apps.find((app) => app.isRunning()) ?? (await startInstance(nextName()));
  }

  async function register(app: AppProcess, address: string): Promise<void> {
    expectStatus(await client.post(`${app.url}/users`, { email: address, password: FAULTS_PASSWORD }), 201);
  }

  async function outboxRows(address: string): Promise<OutboxRow[]> {
    const { rows } = await db.query<OutboxRow>(
      `SELECT id, attempts, sent_at, failed_at, text_body, html_body, last_error
         FROM mail_outbox WHERE lower(recipient) = lower($1) ORDER BY id`,
      [address],
    );
    return rows;
  }

  /** The one outbox row of `address`, once it is recorded as sent. */
  async function sentRow(address: string): Promise<OutboxRow> {
    let row: OutboxRow | undefined;
    await waitUntil(`the mail to ${address} recorded as sent`, 15_000, async () => {
      const rows = await outboxRows(address);
      expect(rows).toHaveLength(1);
      row = rows[0];
      return row.sent_at !== null;
    });
    return row!;
  }

  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
    const database = await createTestDatabase();
    dropDatabase = database.drop;
    db = new Pool({ connectionString: database.url, max: 2 });
    db.on('error', () => undefined);
    env = {
      DATABASE_URL: database.url,
      SMTP_URL: smtp.url,
      MAIL_POLL_INTERVAL_MS: '200',
      MAIL_SEND_LEASE_SECONDS: String(LEASE_SECONDS),
    };
  });

  afterAll(async () => {
    client.close();
    await killAllAppProcesses();
    await db?.end();
    await dropDatabase?.();
    await smtp?.stop();
  });

  it(
    'keeps the mail while the SMTP server is down, retrying with backoff, and sends it once when the server is back',
    withLogs(async () => {
      const app = await runningInstance();
      await smtp.stop();
      const address = email('smtp-down');

      await register(app, address);

      // Two failed tries: the first at once, the next after the backoff.
      await waitUntil('two failed tries in the log', 20_000, () => failedTries(app).length >= 2);
      expect(failedTries(app).join('\n')).toMatch(/next try in 2 s/);
      expect(smtp.mailsTo(address)).toEqual([]);
      const [waiting] = await outboxRows(address);
      expect(waiting).toEqual(
        expect.objectContaining({ sent_at: null, failed_at: null, last_error: expect.any(String) }),
      );
      expect(waiting.attempts).toBeGreaterThanOrEqual(2);
      expect(waiting.text_body).toContain('/auth/verify-email?token=');

      await smtp.listen(); // the same port: the app's SMTP_URL works again

      const [mail] = await smtp.waitForMails(address, 1, 30_000);
      expect(mail.subject).toBe(VERIFICATION_SUBJECT);
      const row = await sentRow(address);
      expect(row).toEqual(
        expect.objectContaining({ failed_at: null, text_body: null, html_body: null, last_error: null }),
      );
      // A few more polls of the worker: still exactly one.
      await sleep(1_000);
      expect(smtp.mailsTo(address)).toHaveLength(1);
    }),
    60_000,
  );

  it(
    'sends a mail whose sender was killed during the DATA exactly once, from the other instance after the lease',
    withLogs(async () => {
      const a = await runningInstance();
      smtp.holdData(HOLD_MS);
      const triesBefore = smtp.attempts;
      const address = email('killed-sender');

      // Only A runs: A takes the mail, and the SMTP server holds its DATA.
      await register(a, address);
      await waitUntil('the DATA of the mail at the SMTP server', 15_000, () => smtp.attempts > triesBefore);
      const heldAt = Date.now();
      // Long enough for the body to arrive, well inside the sender's wait for the answer (a quarter of the lease).
      await sleep(150);
      await a.stop('SIGKILL');
      smtp.holdData(0);
      const [row] = await outboxRows(address);
      expect(row).toEqual(expect.objectContaining({ attempts: 1, sent_at: null }));
      // A was killed while it waited: it never gave the try up.
      expect(a.logTail(400)).not.toContain(`Mail ${row.id} (attempt 1) was not sent`);
      expect(smtp.mailsTo(address)).toEqual([]);

      const b = await startInstance(nextName());

      await smtp.waitForMails(address, 1, 30_000);
      const sent = await sentRow(address);
      expect(sent.attempts).toBeGreaterThanOrEqual(2);
      expect(sent).toEqual(expect.objectContaining({ text_body: null, html_body: null }));
      // B says so (its log line comes just after the row is recorded).
      await waitUntil(`instance B logging that it sent mail ${row.id}`, 5_000, () =>
        b.logTail(400).includes(`Mail ${row.id} sent`),
      );
      // Until the held DATA of the killed instance would have been accepted, and a little more.
      await sleep(Math.max(0, heldAt + HOLD_MS + 1_000 - Date.now()));
      expect(smtp.mailsTo(address)).toHaveLength(1);
    }),
    90_000,
  );

  it(
    `sends each of ${MAILS} mails exactly once while two instances take them from one outbox`,
    withLogs(async () => {
      const running = apps.filter((app) => app.isRunning());
      while (running.length < 2) {
        running.push(await startInstance(nextName()));
      }
      // Each send takes a while, so that the two workers take mails at the same time.
      smtp.holdData(200);
      const addresses = Array.from({ length: MAILS }, (_, index) => email(`many-${index}`));

      await mapConcurrently(addresses, 10, (address, index) => register(running[index % 2], address));

      await waitUntil(`a mail to each of the ${MAILS} addresses`, 60_000, () =>
        addresses.every((address) => smtp.mailsTo(address).length >= 1),
      );
      await waitUntil(`all ${MAILS} mails recorded as sent`, 15_000, async () => {
        const { rows } = await db.query<{ sent: string }>(
          'SELECT count(*) AS sent FROM mail_outbox WHERE recipient = ANY($1) AND sent_at IS NOT NULL',
          [addresses],
        );
        return Number(rows[0].sent) === MAILS;
      });
      // A few more polls of both workers: nothing is sent again.
      await sleep(1_500);
      const counts = Object.fromEntries(addresses.map((address) => [address, smtp.mailsTo(address).length]));
      expect(counts).toEqual(Object.fromEntries(addresses.map((address) => [address, 1])));
      const { rows } = await db.query<{ bodies: string }>(
        'SELECT count(*) AS bodies FROM mail_outbox WHERE recipient = ANY($1) AND (text_body IS NOT NULL OR html_body IS NOT NULL)',
        [addresses],
      );
      expect(Number(rows[0].bodies)).toBe(0);
      smtp.holdData(0);
    }),
    120_000,
  );
});

import { SMTPServer } from 'smtp-server';

let started;

/**
 * A real SMTP server that accepts and discards every mail: the app in production mode
 * needs SMTP_URL, and the registrations of the seed each send a verification mail.
 * One per benchmark process, started on first use.
 */
export function mailSinkUrl() {
  started ??= new Promise((resolve, reject) => {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _session, callback) {
        stream.on('end', () => callback());
        stream.resume();
      },
    });
    server.on('error', () => undefined);
    server.listen(0, '127.0.0.1', () => {
      server.server.unref();
      resolve(`smtp://127.0.0.1:${server.server.address().port}`);
    });
    server.server.once('error', reject);
  });
  return started;
}

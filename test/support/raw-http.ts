import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';

/** Bytes written on a fresh socket, and everything the server answers until it closes. */
export function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** A log destination that keeps every line (the app's `logDestination`). */
export function logCapture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

/** One request on a keep-alive agent to the listening app: its status, body, and how long it took in milliseconds. */
export function call(
  port: number,
  agent: Agent,
  { method = 'GET', path, accessToken, json }: { method?: string; path: string; accessToken: string; json?: object },
): Promise<{ status: number; ms: number; body: string }> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const payload = json === undefined ? undefined : JSON.stringify(json);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          Authorization: `Bearer ${accessToken}`,
          ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - startedAt, body }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

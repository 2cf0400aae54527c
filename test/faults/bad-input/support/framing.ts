import { connect } from 'node:net';
import { BODY_LIMIT_BYTES } from '../../../../src/entrance/entrance';
import { Answer, REQUEST_TIMEOUT_MS, SentRequest } from './requests';

/*
 * Raw sockets: framings an ordinary HTTP client refuses to send (lying Content-Lengths,
 * chunking, oversized headers), and a reader of the answer that comes back.
 */

/** Node's default limit for the request line and headers together. */
const MAX_HEADER_BYTES = 16 * 1024;

export interface Framing {
  name: string;
  /** The bytes on the wire for a request line, its headers and a JSON body. */
  write: (requestLine: string, headers: string[], body: Buffer) => Buffer;
}

const CRLF = '\r\n';
const headBytes = (lines: string[]) => Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1');

export const FRAMINGS: Framing[] = [
  {
    name: 'Content-Length shorter than the body',
    write: (line, headers, body) =>
      Buffer.concat([headBytes([line, ...headers, `Content-Length: ${Math.floor(body.length / 2)}`]), body]),
  },
  {
    name: 'Content-Length that is not a number',
    write: (line, headers, body) => Buffer.concat([headBytes([line, ...headers, 'Content-Length: abc']), body]),
  },
  {
    name: 'negative Content-Length',
    write: (line, headers, body) => Buffer.concat([headBytes([line, ...headers, 'Content-Length: -1']), body]),
  },
  {
    name: 'two different Content-Lengths',
    write: (line, headers, body) =>
      Buffer.concat([headBytes([line, ...headers, `Content-Length: ${body.length}`, 'Content-Length: 1']), body]),
  },
  {
    name: 'Content-Length and chunked together',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([line, ...headers, `Content-Length: ${body.length}`, 'Transfer-Encoding: chunked']),
        Buffer.from(`${body.length.toString(16)}${CRLF}`),
        body,
        Buffer.from(`${CRLF}0${CRLF}${CRLF}`),
      ]),
  },
  {
    name: 'a chunk size that is not hexadecimal',
    write: (line, headers, body) =>
      Buffer.concat([headBytes([line, ...headers, 'Transfer-Encoding: chunked']), Buffer.from(`zz${CRLF}`), body]),
  },
  {
    name: 'a well-formed chunked body',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([line, ...headers, 'Transfer-Encoding: chunked']),
        Buffer.from(`${body.length.toString(16)}${CRLF}`),
        body,
        Buffer.from(`${CRLF}0${CRLF}${CRLF}`),
      ]),
  },
  {
    name: 'a chunked body over the size limit',
    write: (line, headers) => {
      const chunk = Buffer.from(`{"title":"x","content":"${'a'.repeat(BODY_LIMIT_BYTES)}"}`);
      return Buffer.concat([
        headBytes([line, ...headers, 'Transfer-Encoding: chunked']),
        Buffer.from(`${chunk.length.toString(16)}${CRLF}`),
        chunk,
        Buffer.from(`${CRLF}0${CRLF}${CRLF}`),
      ]);
    },
  },
  {
    name: 'headers over 16 KiB',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([line, ...headers, `X-Padding: ${'a'.repeat(MAX_HEADER_BYTES)}`, `Content-Length: ${body.length}`]),
        body,
      ]),
  },
  {
    name: 'an Authorization header over 16 KiB',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([
          line,
          ...headers.filter((header) => !header.startsWith('Authorization')),
          `Authorization: Bearer ${'a'.repeat(MAX_HEADER_BYTES + 1000)}`,
          `Content-Length: ${body.length}`,
        ]),
        body,
      ]),
  },
  {
    name: 'no Host header',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([line, ...headers.filter((header) => !header.startsWith('Host')), `Content-Length: ${body.length}`]),
        body,
      ]),
  },
  {
    name: 'a header name with a space',
    write: (line, headers, body) =>
      Buffer.concat([headBytes([line, ...headers, 'Bad Header: x', `Content-Length: ${body.length}`]), body]),
  },
  {
    name: 'two Content-Types',
    write: (line, headers, body) =>
      Buffer.concat([
        headBytes([line, ...headers, 'Content-Type: text/plain', `Content-Length: ${body.length}`]),
        body,
      ]),
  },
];

/** Sends one request on a raw socket and reads the first answer. */
export function sendOverSocket(port: number, request: SentRequest): Promise<Answer> {
  const framing = FRAMINGS.find((candidate) => candidate.name === request.framing) as Framing;
  const headers = Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`);
  const bytes = framing.write(
    `${request.method} ${request.url} HTTP/1.1`,
    [`Host: 127.0.0.1:${port}`, 'Connection: close', ...headers],
    request.body ?? Buffer.alloc(0),
  );
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    // No half-close: the server may take the end of the input for an aborted request.
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may reset the connection after answering: what arrived is the answer.
    socket.on('error', (error) => (chunks.length > 0 ? undefined : reject(error)));
    socket.on('close', () => {
      const answer = parseAnswer(Buffer.concat(chunks));
      if (answer) {
        resolvePromise(answer);
      } else {
        reject(new Error('the connection closed without an answer'));
      }
    });
  });
}

function parseAnswer(bytes: Buffer): Answer | undefined {
  const end = bytes.indexOf(`${CRLF}${CRLF}`);
  if (end < 0) {
    return undefined;
  }
  const [statusLine, ...headerLines] = bytes.subarray(0, end).toString('latin1').split(CRLF);
  const status = Number(statusLine.split(' ')[1]);
  const headers: Answer['headers'] = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = bytes.subarray(end + 4);
  const length = headers['content-length'];
  if (typeof length === 'string') {
    body = body.subarray(0, Number(length));
  } else if (headers['transfer-encoding'] === 'chunked') {
    body = dechunk(body);
  }
  return { status, headers, text: body.toString('utf8') };
}

function dechunk(bytes: Buffer): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf(CRLF, offset);
    const size = lineEnd < 0 ? 0 : parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!size) {
      return Buffer.concat(chunks);
    }
    chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

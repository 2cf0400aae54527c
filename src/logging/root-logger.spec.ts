import { Writable } from 'node:stream';
import { pino, stdTimeFunctions } from 'pino';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  byteDestination,
  createRequestLineWriter,
  createRootLogger,
  flushWaitingRequestLines,
  isoTimeOfThisMillisecond,
  REQUEST_LINE_DELAY_MS,
  requestLineMessage,
} from './root-logger';

describe('isoTimeOfThisMillisecond', () => {
  it("gives pino's isoTime fragment of the current millisecond", () => {
    const before = Date.now();
    const fragment = isoTimeOfThisMillisecond();
    const after = Date.now();
    expect(fragment).toMatch(/^,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"$/);
    expect(stdTimeFunctions.isoTime()).toMatch(/^,"time":"/);
    const time = Date.parse(JSON.parse(`{${fragment.slice(1)}}`).time as string);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
  });

  it('moves on with the clock', async () => {
    const first = isoTimeOfThisMillisecond();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(isoTimeOfThisMillisecond()).not.toBe(first);
  });
});

describe('createRequestLineWriter', () => {
  const fields = {
    reqId: 'trace-1',
    method: 'GET',
    url: '/posts?search=%22a%22',
    route: '/posts',
    status: 200,
    responseTime: 1.5,
    client: '127.0.0.1',
  };
  /** Past the time a line may wait for its write. */
  const written = () => new Promise((resolve) => setTimeout(resolve, REQUEST_LINE_DELAY_MS + 20));

  function captureChunks() {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    });
    const lines = () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { stream, chunks, lines };
  }

  it("writes lines of the root's shape to the root's stream", async () => {
    const { stream, lines } = captureChunks();
    const root = createRootLogger({ level: 'debug', format: 'json' }, stream);
    const write = createRequestLineWriter(root);
    root.info({ reqId: 'x' }, 'from the root');
    write('info', fields);
    write('debug', { ...fields, url: '/health', route: null, responseTime: 0.1, userAgent: 'curl/8' });
    await written();
    const [fromRoot, line, debugLine] = lines();
    expect(Object.keys(line).slice(0, 4)).toEqual(Object.keys(fromRoot).slice(0, 4));
    expect(Object.keys(line)).toEqual(['level', 'time', 'pid', 'hostname', ...Object.keys(fields), 'msg']);
    expect(line).toEqual({
      ...fields,
      level: 30,
      time: line.time,
      pid: process.pid,
      hostname: fromRoot.hostname,
      msg: 'GET /posts 200 1.5ms',
    });
    expect(Date.parse(line.time as string)).not.toBeNaN();
    expect(debugLine).toEqual(
      expect.objectContaining({ level: 20, userAgent: 'curl/8', msg: 'GET /health 200 0.1ms' }),
    );
  });

  it('escapes whatever a client sent: each line parses back to exactly what was given', async () => {
    const { stream, lines } = captureChunks();
    const write = createRequestLineWriter(createRootLogger({ level: 'info', format: 'json' }, stream));
    const hostile = {
      ...fields,
      url: '/a"b\\c\n{"level":60}',
      client: 'x"y',
      userAgent: 'ua\u0000\u2028"}',
      route: null,
    };
    const hostileRoute = { ...hostile, route: '/r"\\', reqId: 'id"\u007f', method: 'G\tET' };
    write('info', hostile);
    write('info', hostileRoute);
    await written();
    // The msg made of escaped parts is the one the error path logs.
    expect(lines().map((line) => line.msg)).toEqual([requestLineMessage(hostile), requestLineMessage(hostileRoute)]);
    expect(lines()).toEqual([
      expect.objectContaining({ ...hostile, msg: `GET ${hostile.url} 200 1.5ms` }),
      expect.objectContaining({
        ...hostile,
        route: '/r"\\',
        reqId: 'id"\u007f',
        method: 'G\tET',
        msg: 'G\tET /r"\\ 200 1.5ms',
      }),
    ]);
  });

  it('writes every string as JSON.stringify would, surrogates and all', async () => {
    const { stream, chunks } = captureChunks();
    const write = createRequestLineWriter(createRootLogger({ level: 'info', format: 'json' }, stream));
    const urls = [
      '/plain',
      '/é€',
      '/\ud83d\ude00 pair',
      '/lone \ud800 high',
      '/lone \udc00 low',
      '/\u2028\u2029',
      '/\u007f\u0080',
      '/\u001f',
    ];
    for (const url of urls) {
      write('info', { ...fields, url, route: null });
    }
    await written();
    const text = chunks.join('');
    for (const url of urls) {
      expect(text).toContain(`"url":${JSON.stringify(url)}`);
      expect(text).toContain(`"msg":${JSON.stringify(`GET ${url} 200 1.5ms`)}`);
    }
  });

  it('writes the lines of REQUEST_LINE_DELAY_MS in one write, that long after the first', async () => {
    const { stream, chunks, lines } = captureChunks();
    const write = createRequestLineWriter(createRootLogger({ level: 'info', format: 'json' }, stream));
    for (let i = 0; i < 3; i += 1) {
      write('info', { ...fields, reqId: `r${i}` });
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks).toHaveLength(0);
    await written();
    expect(chunks).toHaveLength(1);
    write('info', { ...fields, reqId: 'r3' });
    await written();
    expect(chunks).toHaveLength(2);
    expect(lines().map((line) => line.reqId)).toEqual(['r0', 'r1', 'r2', 'r3']);
  });

  it('writes at once when the buffer is full, and a line longer than the buffer whole, in order', async () => {
    const { stream, chunks, lines } = captureChunks();
    const write = createRequestLineWriter(createRootLogger({ level: 'info', format: 'json' }, stream));
    // Multi-byte characters: the buffer counts bytes, not characters.
    const url = `/posts?search=${'é€'.repeat(40)}`;
    for (let i = 0; i < 400; i += 1) {
      write('info', { ...fields, url, reqId: `r${i}` });
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(chunks.length).toBeGreaterThan(0);
    const long = `/posts?search=${'x'.repeat(70_000)}`;
    write('info', { ...fields, url: long, reqId: 'long' });
    write('info', { ...fields, reqId: 'after' });
    await written();
    const got = lines();
    expect(got.map((line) => line.reqId)).toEqual([...Array.from({ length: 400 }, (_, i) => `r${i}`), 'long', 'after']);
    expect(got.slice(0, 400).every((line) => line.url === url)).toBe(true);
    expect(got[400].url).toBe(long);
  });

  it("stamps each line with its request's time, not the time its batch is made", async () => {
    const { stream, lines } = captureChunks();
    const write = createRequestLineWriter(createRootLogger({ level: 'info', format: 'json' }, stream));
    const before = Date.now();
    write('info', fields);
    const after = Date.now();
    // The line is made later, after this turn, which takes 20 ms.
    const busyUntil = Date.now() + 20;
    while (Date.now() < busyUntil) {
      // Holding the event loop.
    }
    await written();
    const time = Date.parse(lines()[0].time as string);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
  });

  it('writes a line with a missing value (the client of a socket already gone) as null, still JSON', async () => {
    const { stream, lines } = captureChunks();
    const write = createRequestLineWriter(createRootLogger({ level: 'info', format: 'json' }, stream));
    write('info', { ...fields, client: undefined as unknown as string });
    await written();
    expect(lines()).toEqual([expect.objectContaining({ client: null, reqId: 'trace-1' })]);
  });

  it('writes the waiting lines at once, through to the file, when the process exits before their timer', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'request-lines-'));
    try {
      const file = join(folder, 'out.log');
      const destination = pino.destination({ dest: file, sync: false, mkdir: true });
      await once(destination, 'ready');
      const write = createRequestLineWriter(createRootLogger({ level: 'info', format: 'json' }, destination));
      write('info', { ...fields, reqId: 'last-words' });
      expect(process.listeners('exit')).toContain(flushWaitingRequestLines);
      // What the 'exit' listener does; no turn of the event loop in between.
      flushWaitingRequestLines();
      expect(readFileSync(file, 'utf8')).toContain('"reqId":"last-words"');
      destination.destroy();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  /** A root logger on a byteDestination writing to a file in `folder`, its request-line writer, and the file's lines. */
  async function byteDestinationLogger(folder: string) {
    const file = join(folder, 'out.log');
    const destination = byteDestination(file);
    await once(destination, 'ready');
    const root = createRootLogger({ level: 'info', format: 'json' }, destination);
    const fileLines = () =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { destination, root, write: createRequestLineWriter(root), fileLines };
  }

  it("hands full buffers to a byteDestination as bytes, in order with the root's own lines, through to the file", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'request-lines-'));
    try {
      const { destination, root, write, fileLines } = await byteDestinationLogger(folder);
      root.info('before é');
      // Multi-byte characters, and enough lines for several buffers.
      const url = `/posts?search=${'é€'.repeat(40)}`;
      for (let i = 0; i < 1000; i += 1) {
        write('info', { ...fields, url, reqId: `r${i}` });
      }
      await new Promise((resolve) => setImmediate(resolve));
      // The full buffers written (an asynchronous write still under way at exit is not for this test).
      await new Promise<void>((resolve, reject) => destination.flush((error) => (error ? reject(error) : resolve())));
      root.info('after €');
      flushWaitingRequestLines();
      const lines = fileLines();
      expect(lines[0].msg).toBe('before é');
      const requestLines = lines.filter((line) => line.reqId !== undefined);
      expect(requestLines.map((line) => line.reqId)).toEqual(Array.from({ length: 1000 }, (_, i) => `r${i}`));
      expect(requestLines.every((line) => line.url === url)).toBe(true);
      expect(lines.filter((line) => line.msg === 'after €')).toHaveLength(1);
      destination.end();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('uses a buffer again once the byteDestination has written it, and only then', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'request-lines-'));
    const allocate = jest.spyOn(Buffer, 'allocUnsafe');
    try {
      const { destination, write, fileLines } = await byteDestinationLogger(folder);
      const url = `/posts?search=${'x'.repeat(200)}`;
      // Ten rounds of more lines than a buffer holds, each written out before the next.
      for (let round = 0; round < 10; round += 1) {
        for (let i = 0; i < 300; i += 1) {
          write('info', { ...fields, url, reqId: `r${round}-${i}` });
        }
        // The last buffer of the round goes out REQUEST_LINE_DELAY_MS after its first line.
        await new Promise((resolve) => setTimeout(resolve, REQUEST_LINE_DELAY_MS + 30));
      }
      flushWaitingRequestLines();
      const buffers = allocate.mock.calls.filter(([size]) => size === 64 * 1024).length;
      // Two a round (one filled and handed, one for the rest) when none is used again.
      expect(buffers).toBeLessThanOrEqual(4);
      const requestLines = fileLines();
      expect(requestLines.map((line) => line.reqId)).toEqual(
        Array.from({ length: 3000 }, (_, i) => `r${Math.floor(i / 300)}-${i % 300}`),
      );
      destination.end();
    } finally {
      allocate.mockRestore();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('logs through the root when the root has no stream of its own to share', () => {
    const root = pino({ level: 'info' });
    delete (root as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
    const info = jest.spyOn(root, 'info').mockImplementation(() => undefined);
    createRequestLineWriter(root)('info', fields);
    expect(info).toHaveBeenCalledWith(fields, 'GET /posts 200 1.5ms');
  });
});

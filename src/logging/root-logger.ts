import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';
import type { AppConfig } from '../config/configuration';
import type { LogLevelName } from '../config/environment';
import { ALREADY_REDACTED, REDACTED, redactDeep, redactSecrets } from './redact';

let lastMillisecond = -1;
let lastTime = '';

/**
 * What pino's `stdTimeFunctions.isoTime` gives, formatted once per millisecond: under load many lines
 * share one, and `toISOString` was 0.6 µs of a 5 µs request line.
 */
export function isoTimeOfThisMillisecond(): string {
  return isoTimeFragment(Date.now());
}

/** The same fragment for a given time (epoch milliseconds). */
export function isoTimeFragment(epochMs: number): string {
  if (epochMs !== lastMillisecond) {
    lastMillisecond = epochMs;
    lastTime = `,"time":"${new Date(epochMs).toISOString()}"`;
  }
  return lastTime;
}

const PINO_LEVELS: Record<LogLevelName, LevelWithSilent> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/**
 * The one pino logger of the process: for the request lines (`RequestLogController`)
 * and, through nestjs-pino, Nest's. Every string of every line goes through `redactSecrets` (a
 * second line of defence: headers and bodies are never logged in the first place).
 */
export function createRootLogger(log: AppConfig['log'], destination?: DestinationStream): Logger {
  const pretty = !destination && log.format === 'pretty';
  return pino(
    {
      level: PINO_LEVELS[log.level],
      timestamp: isoTimeOfThisMillisecond,
      serializers: {
        err: (error: { name?: string; message?: string; stack?: string; code?: unknown }) => ({
          type: error.name,
          message: redactSecrets(String(error.message ?? '')),
          stack: redactSecrets(String(error.stack ?? '')),
          code: error.code,
        }),
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.access_token', '*.refresh_token'],
        censor: REDACTED,
      },
      hooks: {
        logMethod(args, method) {
          const first: unknown = args[0];
          if (typeof first === 'object' && first !== null && ALREADY_REDACTED in first) {
            method.apply(this, args);
            return;
          }
          method.apply(this, args.map((argument: unknown) => redactDeep(argument)) as Parameters<typeof method>);
        },
      },
      ...(pretty && {
        transport: {
          target: 'pino-pretty',
          options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
        },
      }),
    },
    // Without a destination of the caller's: stdout, written asynchronously, so that a
    // line never waits for the write of the one before (pino flushes what is left when
    // the process exits, and the request lines of the last turn are flushed then too; a
    // SIGKILL loses at most the lines of the last few milliseconds).
    destination ?? (pretty ? undefined : byteDestination(1)),
  );
}

/** What a `byteDestination` was handed and has written, in bytes: its request lines go to it as bytes. */
interface ByteCount {
  handed: number;
  written: number;
}

const byteCounts = new WeakMap<DestinationStream, ByteCount>();

/**
 * An asynchronous destination (a file descriptor or a file) that takes the request lines as
 * the bytes they were encoded to: pino's sonic-boom in buffer mode. In its default mode it
 * takes strings, so each 64 KiB of request lines was decoded to a string, measured twice and
 * encoded again: 0.7 µs of a 37 µs request on the 401 path. pino's own lines, a few, become
 * buffers on the way in. pino's handling of a closed stdout (EPIPE) and its flush at exit
 * are those of `pino.destination`. It counts the bytes it is handed and those sonic-boom
 * reports written (its `write` event, in order), so that the request lines' buffers can be
 * used again once written.
 */
export function byteDestination(dest: number | string): ReturnType<typeof pino.destination> {
  const stream = pino.destination({ dest, sync: false, contentMode: 'buffer' });
  const count: ByteCount = { handed: 0, written: 0 };
  const writeBytes = stream.write.bind(stream) as unknown as (bytes: Buffer) => boolean;
  stream.write = (data: string | Buffer) => {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    count.handed += bytes.length;
    return writeBytes(bytes);
  };
  stream.on('write', (bytes: number) => {
    count.written += bytes;
  });
  byteCounts.set(stream, count);
  return stream;
}

/** What a request line says besides its level, time, pid, hostname and message. */
export interface RequestLineFields {
  reqId: string;
  method: string;
  url: string;
  route: string | null;
  status: number;
  responseTime: number;
  client: string;
  /** Left out of the line when the request had none. */
  userAgent?: string;
}

/** pino's number of each level a request line can have without an error. */
const REQUEST_LINE_LEVELS = { debug: 20, info: 30 } as const;

export type RequestLineLevel = keyof typeof REQUEST_LINE_LEVELS;

/** Writes request lines, one per request; see `createRequestLineWriter`. It keeps `fields` until the end of the turn. */
export type RequestLineWriter = (level: RequestLineLevel, fields: RequestLineFields) => void;

/** The `msg` of a request line: method, route (the URL when no route matched), status and latency. */
export function requestLineMessage(fields: RequestLineFields): string {
  return `${fields.method} ${fields.route ?? fields.url} ${fields.status} ${fields.responseTime}ms`;
}

/** How long a request line may wait before it is written (a SIGKILL loses at most these). */
export const REQUEST_LINE_DELAY_MS = 50;

/** What the lines waiting for their write may take; more is written at once. */
const REQUEST_LINE_BUFFER_BYTES = 64 * 1024;

/** How many buffers handed to the stream are kept to be used again once written. */
const MAX_HANDED_BUFFERS = 4;

/**
 * The writer of the request lines of requests that ended without an error, at the root's
 * level (the caller asks `root.isLevelEnabled` first): each line is one template string in
 * the shape pino gives a line (level, ISO time, pid, hostname, the fields in order, msg; a
 * missing user agent left out), written to the root logger's own stream.
 *
 * A request only leaves its fields and its time (the caller must not change the fields
 * afterwards); the lines of one turn of the event loop are made together in `setImmediate`,
 * after the turn's responses are written, and encoded into a 64 KiB buffer that goes to
 * the stream in one write when it is full or REQUEST_LINE_DELAY_MS after its first line.
 * A request line may so follow a line the root logger wrote up to that long after it.
 *
 * Why so: the same line-making code took 1.9-2.9 µs a request when run in each request's
 * `finish` (timed inside the app on the 401 path), 0.45 µs in a loop; at 32 connections a
 * turn holds about 31 requests. On that path, one process switched between `warn` and
 * `info`, 15-second runs, the throughput at `info` went from 0.78-0.89 of `warn` (median
 * 0.87 of 13 runs; a line made and encoded per request) to 0.91-0.94 (8 runs; made per
 * turn, handed to a `byteDestination` as bytes). Through a second pino logger a line took 5.5 µs.
 * Falls back to the root logger when the root has no stream of its own.
 */
export function createRequestLineWriter(root: Logger): RequestLineWriter {
  const stream = (root as unknown as Record<symbol, DestinationStream | undefined>)[pino.symbols.streamSym];
  if (stream === undefined) {
    return (level, fields) => root[level](fields, requestLineMessage(fields));
  }
  const base = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`;
  // Set when the stream is a byteDestination: the lines go to it as bytes.
  const count = byteCounts.get(stream);
  // The buffer being filled, taken when a line needs it.
  let buffer: Buffer | undefined;
  let used = 0;
  // The buffers handed to a byteDestination, each with the stream's count of bytes handed once
  // it was: free again when the stream has written that many. With a new 64 KiB buffer a flush
  // (one every 7 ms under load), the 401 path ran at 0.80-0.85 of its `warn` throughput at
  // `info` (median 0.83 of 4 runs, the app run as `start:prod` runs it); with them used again,
  // 0.87-0.90 (median 0.87) in the runs alternated with those.
  const handedBuffers: { buffer: Buffer; end: number }[] = [];
  const takeBuffer = (): Buffer => {
    const oldest = handedBuffers[0];
    if (oldest !== undefined && count !== undefined && count.written >= oldest.end) {
      handedBuffers.shift();
      buffer = oldest.buffer;
    } else {
      buffer = Buffer.allocUnsafe(REQUEST_LINE_BUFFER_BYTES);
    }
    return buffer;
  };
  let timer: NodeJS.Timeout | undefined;
  // The requests whose lines are not made yet, with their levels and times (epoch ms).
  const levels: RequestLineLevel[] = [];
  const times: number[] = [];
  const waiting: RequestLineFields[] = [];

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (used === 0 || buffer === undefined) {
      return;
    }
    if (count) {
      // The stream keeps the buffer until it is written: the next lines go to another one.
      (stream as unknown as { write(data: Buffer): unknown }).write(buffer.subarray(0, used));
      handedBuffers.push({ buffer, end: count.handed });
      if (handedBuffers.length > MAX_HANDED_BUFFERS) {
        // The stream is slow to write: it still holds the oldest, which is left to it.
        handedBuffers.shift();
      }
      buffer = undefined;
    } else {
      stream.write(buffer.toString('utf8', 0, used));
    }
    used = 0;
  };
  const flushWhenDue = () => {
    flush();
    if (waiting.length === 0) {
      waitingWriters.delete(flushAtExit);
    }
  };
  // The lines of a batch go into the buffer in one write for as many as fit (0.1 µs a
  // line less than a write each, in a loop of 3,000,000).
  const encodeWaiting = () => {
    let text = '';
    try {
      let target = buffer ?? takeBuffer();
      for (let i = 0; i < waiting.length; i += 1) {
        const line = requestLine(levels[i], waiting[i], isoTimeFragment(times[i]), base);
        // UTF-8 takes at most 3 bytes per UTF-16 code unit.
        if (used + (text.length + line.length) * 3 > target.length) {
          used += target.write(text, used, 'utf8');
          text = '';
          if (used + line.length * 3 > target.length) {
            flush();
            target = buffer ?? takeBuffer();
          }
          if (line.length * 3 > target.length) {
            // A line longer than the buffer (a URL or user agent of many kilobytes) goes on its own.
            stream.write(line);
            continue;
          }
        }
        text += line;
      }
      used += target.write(text, used, 'utf8');
    } finally {
      // Even if the stream threw: the next request schedules the next turn's lines.
      levels.length = 0;
      times.length = 0;
      waiting.length = 0;
    }
    if (used === 0) {
      waitingWriters.delete(flushAtExit);
    } else {
      timer ??= setTimeout(flushWhenDue, REQUEST_LINE_DELAY_MS).unref();
    }
  };
  const flushAtExit = () => {
    encodeWaiting();
    const { fd, flushSync } = stream as { fd?: unknown; flushSync?: () => void };
    if (typeof fd === 'number' && fd >= 0 && flushSync !== undefined && buffer !== undefined && used > 0) {
      // Handed to sonic-boom now, the lines would go in an asynchronous write that the exit
      // may cut short (its flushSync writes only what waits behind the write under way): what
      // it holds goes first, then these lines, both synchronously.
      flushSync.call(stream);
      for (let offset = 0; offset < used;) {
        offset += writeSync(fd, buffer, offset, used - offset);
      }
      used = 0;
    }
    // Clears the timer; writes the lines only when the stream could not take them synchronously.
    flush();
    flushSync?.call(stream);
    waitingWriters.delete(flushAtExit);
  };
  return (level, fields) => {
    if (waiting.length === 0) {
      setImmediate(encodeWaiting);
      waitingWriters.add(flushAtExit);
      whenTheProcessExits();
    }
    levels.push(level);
    times.push(Date.now());
    waiting.push(fields);
  };
}

/**
 * One request line: `time` is the `,"time":…` fragment and `base` the `,"pid":…,"hostname":…`
 * one. Every string goes through `jsonInner`, and `msg` is `requestLineMessage` made of the
 * escaped parts (so that it is not escaped a second time; a test holds the two together).
 */
function requestLine(level: RequestLineLevel, fields: RequestLineFields, time: string, base: string): string {
  const method = jsonInner(fields.method);
  const url = jsonInner(fields.url);
  const route = fields.route === null ? null : jsonInner(fields.route);
  const client = fields.client == null ? 'null' : `"${jsonInner(fields.client)}"`;
  const userAgent = fields.userAgent === undefined ? '' : `,"userAgent":"${jsonInner(fields.userAgent)}"`;
  const responseTime = String(fields.responseTime);
  return (
    `{"level":${REQUEST_LINE_LEVELS[level]}${time}${base},"reqId":"${jsonInner(fields.reqId)}"` +
    `,"method":"${method}","url":"${url}","route":${route === null ? 'null' : `"${route}"`}` +
    `,"status":${fields.status},"responseTime":${responseTime},"client":${client}${userAgent}` +
    `,"msg":"${method} ${route ?? url} ${fields.status} ${responseTime}ms"}\n`
  );
}

/**
 * What JSON.stringify escapes in a string: a quote, a backslash, a control character, and
 * a lone surrogate (any surrogate sends the string through JSON.stringify, which keeps the pairs).
 */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const ESCAPED_IN_JSON = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A string as it goes between the quotes of a JSON string: itself when nothing in it needs
 * escaping, as in nearly every line (the test costs 50 ns, JSON.stringify 90 ns; a line
 * has six strings).
 */
function jsonInner(value: string): string {
  return ESCAPED_IN_JSON.test(value) ? JSON.stringify(value).slice(1, -1) : value;
}

/** The writers holding lines not written yet. */
const waitingWriters = new Set<() => void>();
let listeningForExit = false;

/**
 * On `process.exit` (a second signal, a shutdown past its deadline) or at the end of the
 * work, the timer (unref'd) never fires: the lines still waiting are written then,
 * synchronously. pino's own exit hook has run by then (it was registered first), so each
 * writer also flushes its stream itself.
 */
function whenTheProcessExits(): void {
  if (!listeningForExit) {
    listeningForExit = true;
    process.on('exit', flushWaitingRequestLines);
  }
}

/** Writes every request line still waiting, and flushes its stream synchronously. */
export function flushWaitingRequestLines(): void {
  for (const flushAtExit of [...waitingWriters]) {
    try {
      flushAtExit();
    } catch {
      // The process is exiting: a stream that cannot take the lines now never will.
    }
  }
}

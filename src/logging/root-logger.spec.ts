import { Writable } from 'node:stream';
import { pino, stdTimeFunctions } from 'pino';
import { createRequestLineLogger, createRootLogger, isoTimeOfThisMillisecond } from './root-logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, lines };
}

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

describe('createRequestLineLogger', () => {
  it("writes to the root's stream, at the root's level, lines of the same shape", () => {
    const { stream, lines } = capture();
    const root = createRootLogger({ level: 'info', format: 'json' }, stream);
    const requestLines = createRequestLineLogger(root);
    expect(requestLines).not.toBe(root);
    root.info({ a: 1 }, 'from the root');
    requestLines.info({ b: 2 }, 'a request line');
    requestLines.debug('below the level');
    expect(lines).toHaveLength(2);
    const keys = (line: Record<string, unknown>) => Object.keys(line).filter((key) => !['a', 'b', 'msg'].includes(key));
    expect(keys(lines[1])).toEqual(keys(lines[0]));
    expect(lines[1]).toEqual(expect.objectContaining({ level: 30, b: 2, msg: 'a request line', pid: process.pid }));
  });

  it('follows a root at warn: request lines at info are not written', () => {
    const { stream, lines } = capture();
    const requestLines = createRequestLineLogger(createRootLogger({ level: 'warn', format: 'json' }, stream));
    requestLines.info('not written');
    requestLines.warn('written');
    expect(lines.map((line) => line.msg)).toEqual(['written']);
  });

  it('is the root itself when the root has no stream of its own to share', () => {
    const root = pino({ enabled: false });
    delete (root as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
    expect(createRequestLineLogger(root)).toBe(root);
  });
});

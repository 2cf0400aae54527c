import { types } from 'pg';
import { TYPE_PARSERS } from './type-parsers';

const { TIMESTAMP, TIMESTAMPTZ } = types.builtins;
const pgParser = (oid: number) => types.getTypeParser(oid, 'text') as (text: string) => unknown;
const ourParser = (oid: number) => TYPE_PARSERS.getTypeParser(oid, 'text') as (text: string) => unknown;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const OFFSETS = ['+00', '-05', '+05:30', '+05:45', '-09:30', '+14', '-03:00:12'];

/** Texts in the shapes PostgreSQL prints a timestamp in (DateStyle ISO), from a fixed seed. */
function printedTimestamps(count: number, withOffset: boolean): string[] {
  let seed = 7;
  const next = (below: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % below;
  };
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const date = `${pad(1 + next(9999), 4)}-${pad(1 + next(12))}-${pad(1 + next(28))}`;
    const time = `${pad(next(24))}:${pad(next(60))}:${pad(next(60))}`;
    const digits = next(7);
    const fraction =
      digits === 0
        ? ''
        : `.${
            String(next(10 ** digits))
              .padStart(digits, '0')
              .replace(/0+$/, '') || '1'
          }`;
    const offset = withOffset ? OFFSETS[next(OFFSETS.length)] : '';
    texts.push(`${date} ${time}${fraction}${offset}${next(50) === 0 ? ' BC' : ''}`);
  }
  return texts;
}

const asComparable = (value: unknown) => (value instanceof Date ? value.getTime() : value);

describe('the timestamp parser given to every pool', () => {
  it.each([
    ['timestamptz', TIMESTAMPTZ, true],
    ['timestamp', TIMESTAMP, false],
  ])('reads every %s text as pg-types would', (_name, oid, withOffset) => {
    const texts = [
      ...printedTimestamps(5_000, withOffset),
      'infinity',
      '-infinity',
      `2026-12-03 14:05:09.123456${withOffset ? '+00' : ''}`,
      `0099-01-01 00:00:00${withOffset ? '+00' : ''}`,
      `0001-01-01 00:00:00${withOffset ? '+00' : ''} BC`,
    ];
    const differences = texts.filter(
      (text) => asComparable(ourParser(oid)(text)) !== asComparable(pgParser(oid)(text)),
    );
    expect(differences).toEqual([]);
    expect(ourParser(oid)).not.toBe(pgParser(oid));
  });

  it('reads a microsecond timestamp to the millisecond, as a Date', () => {
    const parsed = ourParser(TIMESTAMPTZ)('2026-12-03 14:05:09.123987+05:30');
    expect(parsed).toBeInstanceOf(Date);
    expect((parsed as Date).toISOString()).toBe('2026-12-03T08:35:09.123Z');
  });

  it("leaves every other type to pg's own parser", () => {
    for (const oid of [16, 20, 21, 23, 25, 114, 1082, 1700, 3802]) {
      expect(TYPE_PARSERS.getTypeParser(oid, 'text')).toBe(types.getTypeParser(oid, 'text'));
    }
  });
});

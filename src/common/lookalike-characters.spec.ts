import { hasLookalikeCharacters } from './lookalike-characters';

describe('hasLookalikeCharacters', () => {
  it.each([
    ['a zero-width space', 'ali\u200Bce@example.com'],
    ['a right-to-left override', 'alice\u202E@example.com'],
    ['a byte order mark', '\uFEFFalice@example.com'],
    ['a soft hyphen', 'ali\u00ADce@example.com'],
    ['a word joiner', 'ali\u2060ce@example.com'],
    ['full-width letters', '\uFF41\uFF4C\uFF49\uFF43\uFF45@example.com'],
    ['a full-width domain', 'alice@\uFF45\uFF58\uFF41\uFF4D\uFF50\uFF4C\uFF45.com'],
    ['a no-break space', 'alice\u00A0@example.com'],
    ['a ligature', '\uFB01sh@example.com'],
  ])('finds %s', (_name, text) => {
    expect(hasLookalikeCharacters(text)).toBe(true);
  });

  it.each(['alice@example.com', 'josé@example.com', '用户@例子.广告', 'o.brien+news@example.co.uk'])(
    'leaves %s alone',
    (text) => {
      expect(hasLookalikeCharacters(text)).toBe(false);
    },
  );
});

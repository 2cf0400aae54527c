import { codePointLength } from './code-point-length';

describe('codePointLength', () => {
  it('counts an emoji outside the BMP as one code point', () => {
    expect(codePointLength('😀😀')).toBe(2);
  });

  it('counts a variation selector as a code point of its own, as PostgreSQL does', () => {
    expect(codePointLength('\u2764\uFE0F')).toBe(2);
  });

  it('counts plain text by its characters', () => {
    expect(codePointLength('hello')).toBe(5);
  });
});

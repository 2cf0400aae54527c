import { escapeLikePattern } from './like-pattern';

describe('escapeLikePattern', () => {
  it('escapes the LIKE wildcards and the escape character', () => {
    expect(escapeLikePattern('50%_off\\now')).toBe('50\\%\\_off\\\\now');
  });

  it('leaves other text alone', () => {
    expect(escapeLikePattern("it's [a] test")).toBe("it's [a] test");
  });
});

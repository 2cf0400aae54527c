import { ValidationProblemException } from './problem';
import { MAX_ID, ParseIdPipe } from './validation.pipe';

describe('ParseIdPipe', () => {
  const pipe = new ParseIdPipe();
  const metadata = { type: 'param' as const, data: 'id' };

  it.each(['1', '42', String(MAX_ID)])('accepts %s', (value) => {
    expect(pipe.transform(value, metadata)).toBe(Number(value));
  });

  it.each(['0', '-1', '1.5', 'abc', '', '1e3', ' 1', String(MAX_ID + 1), '99999999999'])(
    'refuses %p with a 422 naming the field',
    (value) => {
      expect(() => pipe.transform(value, metadata)).toThrow(ValidationProblemException);
      try {
        pipe.transform(value, metadata);
      } catch (error) {
        expect((error as ValidationProblemException).errors).toEqual([
          { field: 'id', message: expect.stringContaining('positive integer') },
        ]);
      }
    },
  );
});

import { ValidationPipe } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { IsOmittable, toInteger } from './optional';
import { ValidationProblemException } from './problem';
import { AppValidationPipe, MAX_ID, ParseIdPipe } from './validation.pipe';

class PageQuery {
  @IsOmittable()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 10;

  @IsOmittable()
  @IsString()
  search: string = '';
}

class OtherQuery {
  @IsOmittable()
  @Transform(toInteger)
  @IsInt()
  limit: number = 5;
}

describe('AppValidationPipe on a query', () => {
  const asQuery = (metatype: new () => object) => ({ type: 'query' as const, metatype });
  let pipe: AppValidationPipe;
  let validations: jest.SpyInstance;

  beforeEach(() => {
    pipe = new AppValidationPipe();
    validations = jest.spyOn(ValidationPipe.prototype, 'transform');
  });

  afterEach(() => validations.mockRestore());

  it('validates a query once and gives each request its own DTO', async () => {
    const first = (await pipe.transform({ limit: '20' }, asQuery(PageQuery))) as PageQuery;
    first.search = 'changed by a handler';
    const second = (await pipe.transform({ limit: '20' }, asQuery(PageQuery))) as PageQuery;
    expect(second).toBeInstanceOf(PageQuery);
    expect(second).not.toBe(first);
    expect({ ...second }).toEqual({ limit: 20, search: '' });
    expect(validations).toHaveBeenCalledTimes(1);
  });

  it('validates every other query, and one DTO class never answers for another', async () => {
    expect({ ...((await pipe.transform({ limit: '20' }, asQuery(PageQuery))) as object) }).toEqual({
      limit: 20,
      search: '',
    });
    expect({ ...((await pipe.transform({ limit: '30' }, asQuery(PageQuery))) as object) }).toEqual({
      limit: 30,
      search: '',
    });
    const other = await pipe.transform({ limit: '20' }, asQuery(OtherQuery));
    expect(other).toBeInstanceOf(OtherQuery);
    expect({ ...(other as object) }).toEqual({ limit: 20 });
    expect(validations).toHaveBeenCalledTimes(3);
  });

  it('refuses a bad query every time it comes', async () => {
    for (let i = 0; i < 2; i++) {
      await expect(pipe.transform({ limit: '0' }, asQuery(PageQuery))).rejects.toBeInstanceOf(
        ValidationProblemException,
      );
    }
    expect(validations).toHaveBeenCalledTimes(2);
  });

  it('does not remember a long query', async () => {
    const search = 'x'.repeat(400);
    for (let i = 0; i < 2; i++) {
      expect(((await pipe.transform({ search }, asQuery(PageQuery))) as PageQuery).search).toBe(search);
    }
    expect(validations).toHaveBeenCalledTimes(2);
  });
});

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

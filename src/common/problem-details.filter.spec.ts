import { ConflictException, Logger } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { toProblem } from './problem-details.filter';
import { ValidationProblemException } from './problem';

describe('toProblem', () => {
  const logger = { error: jest.fn(), warn: jest.fn(), log: jest.fn() } as unknown as Logger & {
    error: jest.Mock;
    warn: jest.Mock;
    log: jest.Mock;
  };

  beforeEach(() => [logger.error, logger.warn, logger.log].forEach((mock) => mock.mockClear()));

  it('answers an unexpected error with a 500 that hides its message, and logs its stack', () => {
    const error = new Error('column "secret_internal" does not exist');
    const { body } = toProblem(error, logger);
    expect(body).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: expect.any(String),
    });
    expect(JSON.stringify(body)).not.toContain('secret_internal');
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('secret_internal'));
    expect(logger.error.mock.calls[0][0]).toContain('problem-details.filter.spec.ts');
  });

  it('keeps the detail of an HTTP exception', () => {
    expect(toProblem(new ConflictException('Already there.'), logger).body).toMatchObject({
      status: 409,
      title: 'Conflict',
      detail: 'Already there.',
    });
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('adds the field errors of a validation problem', () => {
    const { body } = toProblem(
      new ValidationProblemException([{ field: 'title', message: 'title is required' }]),
      logger,
    );
    expect(body).toMatchObject({ status: 422, errors: [{ field: 'title', message: 'title is required' }] });
  });

  it('turns a refused database connection into a 503 with Retry-After', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const { body, headers } = toProblem(refused, logger);
    expect(body.status).toBe(503);
    expect(headers['Retry-After']).toBe('5');
  });

  it('turns an administrator shutdown seen by a query into a 503', () => {
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    expect(toProblem(new QueryFailedError('SELECT 1', [], shutdown), logger).body.status).toBe(503);
  });

  it('keeps a client error that Fastify raised with its status', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413 });
    expect(toProblem(tooLarge, logger).body).toMatchObject({ status: 413, title: 'Payload Too Large' });
  });

  it('logs a client that dropped its connection mid-body as such, not as a database outage', () => {
    // What Fastify hands on when the request stream ends early: the socket's ECONNRESET, with a 400.
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 });
    const { body } = toProblem(aborted, logger);
    expect(body.status).toBe(400);
    expect(logger.error).not.toHaveBeenCalled();
    expect(logger.log).toHaveBeenCalledWith(expect.stringContaining('client closed the connection'));
  });

  it('answers a statement timeout with a 503 about the request, not about the database', () => {
    const cancelled = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    const { body, headers } = toProblem(new QueryFailedError('SELECT 1', [], cancelled), logger);
    expect(body.status).toBe(503);
    expect(body.detail).toMatch(/^The request took too long/);
    expect(body.detail).not.toMatch(/database is unavailable/);
    expect(headers['Retry-After']).toBeDefined();
    expect(logger.error).not.toHaveBeenCalled();
  });
});

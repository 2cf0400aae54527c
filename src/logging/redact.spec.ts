import { loggableUrl, redactDeep, redactSecrets } from './redact';

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwic2lkIjo0fQ.dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ';
const BCRYPT = '$2b$12$C6UzMDM.H6dfI/f/IKcEeO5Q8z1QTp5uBq6nKp0dZJ8gO1Bv8E3a2';

describe('redactSecrets', () => {
  it('hides JWTs, bcrypt hashes and bearer credentials wherever they sit in a text', () => {
    const text = `QueryFailedError: bad input "${BCRYPT}" while checking ${JWT}; header Authorization: Bearer abc.def`;
    const redacted = redactSecrets(text);
    expect(redacted).not.toContain(BCRYPT);
    expect(redacted).not.toContain(JWT);
    expect(redacted).not.toContain('abc.def');
    expect(redacted).toContain('QueryFailedError: bad input');
    expect(redacted).toContain('Bearer [redacted]');
  });

  it('leaves ordinary text alone', () => {
    expect(redactSecrets('GET /posts/7 404 3ms')).toBe('GET /posts/7 404 3ms');
  });

  it('goes through nested log records', () => {
    expect(redactDeep({ err: { message: `token ${JWT}`, list: [BCRYPT] }, status: 500 })).toEqual({
      err: { message: 'token [redacted]', list: ['[redacted]'] },
      status: 500,
    });
  });
});

describe('loggableUrl', () => {
  it('hides the values of query parameters named like secrets, keeping the others', () => {
    expect(loggableUrl('/posts?limit=10&access_token=xyz&Password=hunter2&search=garden')).toBe(
      '/posts?limit=10&access_token=[redacted]&Password=[redacted]&search=garden',
    );
    expect(loggableUrl('/posts?%70assword=hunter2')).toBe('/posts?%70assword=[redacted]');
    expect(loggableUrl('/posts?%E0%A4%A=1')).toBe('/posts?%E0%A4%A=1');
    expect(loggableUrl('/posts/3')).toBe('/posts/3');
  });
});

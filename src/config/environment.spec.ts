import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfiguration } from './configuration';
import { EnvironmentVariables, OPTIONAL_VARIABLES, validateEnvironment } from './environment';

describe('validateEnvironment', () => {
  it('fills every default when the environment is empty', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 8000,
      DATA_DIR: './.data',
      ACCESS_TOKEN_EXPIRE_MINUTES: 30,
      BCRYPT_ROUNDS: 12,
      LOG_LEVEL: 'info',
      DATABASE_POOL_SIZE: 10,
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.JWT_SECRET).toBeUndefined();
  });

  it('turns numeric strings into numbers', () => {
    expect(validateEnvironment({ PORT: '3000', BCRYPT_ROUNDS: '10' })).toMatchObject({ PORT: 3000, BCRYPT_ROUNDS: 10 });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['BCRYPT_ROUNDS', '3'],
    ['BCRYPT_ROUNDS', '32'],
    ['ACCESS_TOKEN_EXPIRE_MINUTES', '0'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['DATABASE_REPLICA_URLS', 'postgres://replica-1/db,mysql://replica-2/db'],
    ['REPLICA_MAX_LAG_MS', '5'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
  ])('stops with a message naming %s when it is %p', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(new RegExp(`${name}.*\\(got "${value}"\\)`));
  });

  it('says once that a variable has the wrong kind of value', () => {
    expect(() => validateEnvironment({ PORT: 'abc' })).toThrow(
      /^Invalid configuration:\n {2}- PORT must be an integer number \(got "abc"\)$/,
    );
  });

  it('reads DATABASE_REPLICA_URLS as a list, and hides their passwords in an error', () => {
    const urls = 'postgres://reader:a@replica-1:5432/posts, postgresql://replica-2/posts';
    expect(loadConfiguration({ DATABASE_REPLICA_URLS: urls }).database).toMatchObject({
      replicaUrls: ['postgres://reader:a@replica-1:5432/posts', 'postgresql://replica-2/posts'],
      replicaMaxLagMs: 1_000,
    });
    expect(loadConfiguration({}).database.replicaUrls).toEqual([]);
    expect(() =>
      validateEnvironment({ DATABASE_REPLICA_URLS: 'postgres://u:s3cret@r1/db,redis://u:s3cret@r2/db' }),
    ).toThrow(/postgres:\/\/u:\*\*\*@r1\/db,redis:\/\/u:\*\*\*@r2\/db/);
  });

  it('treats an empty DATABASE_URL as unset', () => {
    expect(validateEnvironment({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });

  it('refuses to start in production without a JWT_SECRET', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET must be set/);
  });

  it('refuses a production JWT_SECRET shorter than 32 bytes', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(31) })).toThrow(/JWT_SECRET/);
  });

  it('accepts a production JWT_SECRET of 32 bytes', () => {
    expect(
      validateEnvironment({ NODE_ENV: 'production', JWT_SECRET: 'y'.repeat(32), SMTP_URL: 'smtp://mail:25' })
        .JWT_SECRET,
    ).toBe('y'.repeat(32));
  });

  it('refuses to start in production without an SMTP_URL', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'production', JWT_SECRET: 'y'.repeat(32) })).toThrow(
      /SMTP_URL must be set when NODE_ENV=production/,
    );
  });

  it('needs no SMTP_URL outside production (mails go to the log)', () => {
    expect(validateEnvironment({ NODE_ENV: 'development' }).SMTP_URL).toBeUndefined();
  });

  it.each(['http://mail:25', 'mail.example.com', 'smtp://'])('refuses the SMTP_URL %s', (url) => {
    expect(() => validateEnvironment({ SMTP_URL: url })).toThrow(/SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL/);
  });

  it('does not repeat the password of a bad URL in its error', () => {
    expect(() => validateEnvironment({ SMTP_URL: 'smtpx://user:s3cret@mail:25' })).toThrow(
      /smtpx:\/\/user:\*\*\*@mail:25/,
    );
    expect(() => validateEnvironment({ SMTP_URL: 'smtpx://user:s3cret@mail:25' })).not.toThrow(/s3cret/);
  });

  it.each(['smtp://user:pass@mail.example.com:587', 'smtps://mail.example.com'])('accepts the SMTP_URL %s', (url) => {
    expect(validateEnvironment({ SMTP_URL: url }).SMTP_URL).toBe(url);
  });

  it.each(['ftp://x', 'https://posts.example.com?x=1', 'posts.example.com'])('refuses the PUBLIC_URL %s', (url) => {
    expect(() => validateEnvironment({ PUBLIC_URL: url })).toThrow(/PUBLIC_URL/);
  });

  it.each(['Posts <no-reply@example.com>', 'a@b', 'nobody', 'x <y>'])('checks MAIL_FROM %s', (from) => {
    const valid = from.includes('@');
    if (valid) {
      expect(validateEnvironment({ MAIL_FROM: from }).MAIL_FROM).toBe(from);
    } else {
      expect(() => validateEnvironment({ MAIL_FROM: from })).toThrow(/MAIL_FROM/);
    }
  });

  it('reads ADMIN_EMAILS as a list, with spaces around it and its commas', () => {
    expect(loadConfiguration({ ADMIN_EMAILS: ' Admin@Example.COM ,  boss@example.com ' }).auth.adminEmails).toEqual([
      'admin@example.com',
      'boss@example.com',
    ]);
    expect(() => validateEnvironment({ ADMIN_EMAILS: 'admin' })).toThrow(/ADMIN_EMAILS/);
  });

  it('reads REQUIRE_VERIFIED_EMAIL as true or false only', () => {
    expect(validateEnvironment({ REQUIRE_VERIFIED_EMAIL: 'TRUE' }).REQUIRE_VERIFIED_EMAIL).toBe('true');
    expect(() => validateEnvironment({ REQUIRE_VERIFIED_EMAIL: 'yes' })).toThrow(/REQUIRE_VERIFIED_EMAIL/);
  });

  it('names every bad variable at once', () => {
    expect(() => validateEnvironment({ PORT: 'x', LOG_LEVEL: 'y' })).toThrow(
      /PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/,
    );
  });
});

describe('the documented settings', () => {
  const root = join(__dirname, '..', '..');
  const variables = [...Object.keys(new EnvironmentVariables()), ...OPTIONAL_VARIABLES];

  it('lists every variable the service reads in .env.example', () => {
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    expect(variables.filter((name) => !new RegExp(`^${name}=`, 'm').test(example))).toEqual([]);
  });

  it("lists every variable the service reads in the README's configuration table", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(variables.filter((name) => !readme.includes(`| \`${name}\` |`))).toEqual([]);
  });
});

import { withoutUrlPasswords } from './url-passwords';

describe('withoutUrlPasswords', () => {
  it('hides the password of one URL, of each URL of a list, and one with a comma in it', () => {
    expect(withoutUrlPasswords('smtp://user:s3cret@mail.example.com:587')).toBe('smtp://user:***@mail.example.com:587');
    expect(withoutUrlPasswords('postgres://a:p1@h1/db,postgres://b:p2@h2/db')).toBe(
      'postgres://a:***@h1/db,postgres://b:***@h2/db',
    );
    expect(withoutUrlPasswords('connect to postgres://u:pa,ss@h/db failed')).toBe(
      'connect to postgres://u:***@h/db failed',
    );
    expect(withoutUrlPasswords('postgres://u@h/db and no password')).toBe('postgres://u@h/db and no password');
  });
});

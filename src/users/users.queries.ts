import type { Statement } from '../database/sql';

/** A user as `GET /users/{id}` shows them. */
export interface UserViewRow {
  id: number;
  username: string | null;
  email: string;
  created_at: Date;
}

const FIND_USER_BY_ID = `SELECT id, username, email, created_at FROM users WHERE id = $1`;

export function findUserById(id: number): Statement {
  return { name: 'users_find_by_id', text: FIND_USER_BY_ID, values: [id] };
}

/** Usernames are stored lower-case (`users_username_format`): the caller lowers the name. */
const FIND_USER_BY_USERNAME = `SELECT id, username, email, created_at FROM users WHERE username = $1`;

export function findUserByUsername(username: string): Statement {
  return { name: 'users_find_by_username', text: FIND_USER_BY_USERNAME, values: [username] };
}

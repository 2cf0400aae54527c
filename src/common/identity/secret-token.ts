import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, base64url (43 characters): what the client or the mail keeps. */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What a table keeps instead of the token (SHA-256, hex): a leaked table cannot be replayed. */
export function hashSecretToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

import { createHash, randomBytes } from 'node:crypto';

/** Kinds of bearer token, visible in the prefix so a leaked one is easy to recognise. */
export const TokenPrefix = {
  admin: 'wgl_adm_',
  api: 'wgl_api_',
  machine: 'wgl_mch_',
  join: 'wgl_join_',
} as const;

/** A new random token: 32 bytes of entropy, base64url, behind its prefix. */
export function newToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/**
 * Tokens are random, so a plain SHA-256 is enough to store them (no salt or slow hash is
 * needed against guessing 256 bits); only the hash is kept.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

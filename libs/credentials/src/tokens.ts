import { createHash, createHmac, randomBytes } from 'node:crypto';

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

/**
 * A token that can be made again: HMAC-SHA256 of a random salt (stored beside the token's
 * hash) under a seed (derived by the gateway from the caller's Idempotency-Key, never
 * stored). A repeated create with the same key shows the same token without the hub
 * keeping it; the salt alone, or the seed alone, gives nothing away.
 */
export function derivedToken(prefix: string, seed: string, salt: Buffer): string {
  return prefix + createHmac('sha256', Buffer.from(seed, 'hex')).update(salt).digest('base64url');
}

/** A salt for derivedToken. */
export function newTokenSalt(): Buffer {
  return randomBytes(32);
}

import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** AES-256-GCM: 256-bit keys, a fresh 96-bit nonce per encryption, a 128-bit tag. */
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** One AES-256-GCM encryption: what is stored (never the key, never the plaintext). */
export interface Sealed {
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Raised when a ciphertext, its tag, its nonce or its associated data was altered (or the key is not its key). */
export class IntegrityError extends Error {
  constructor(what: string) {
    super(
      `${what} failed its integrity check: the ciphertext, tag, nonce or associated data was altered, or it is not under this key`,
    );
    this.name = 'IntegrityError';
  }
}

export function newKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Encrypts under `key` with a fresh random nonce; `associatedData` is authenticated, not stored. */
export function seal(key: Buffer, plaintext: Buffer, associatedData: Buffer): Sealed {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

/** Decrypts, or throws IntegrityError: GCM refuses any altered byte of ciphertext, tag, nonce or associated data. */
export function open(key: Buffer, sealed: Sealed, associatedData: Buffer, what: string): Buffer {
  if (sealed.nonce.length !== NONCE_BYTES || sealed.tag.length !== TAG_BYTES) {
    throw new IntegrityError(what);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData);
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    throw new IntegrityError(what);
  }
}

/** A wrapped key in one column: nonce ‖ tag ‖ ciphertext. */
export function pack(sealed: Sealed): Buffer {
  return Buffer.concat([sealed.nonce, sealed.tag, sealed.ciphertext]);
}

export function unpack(packed: Buffer): Sealed {
  return {
    nonce: packed.subarray(0, NONCE_BYTES),
    tag: packed.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES),
    ciphertext: packed.subarray(NONCE_BYTES + TAG_BYTES),
  };
}

/**
 * Associated data of a secret's value: its id, name and scope, and the machine label it is
 * restricted to (a value moved to another row, name or scope, or unrestricted, does not open).
 */
export function valueAssociatedData(
  id: string,
  name: string,
  scope: string,
  machineLabel: string | null = null,
): Buffer {
  return Buffer.from(JSON.stringify(['waggle-vault-value-v1', id, name, scope, machineLabel]), 'utf8');
}

/** Associated data of a data key: the secret it belongs to and the key version wrapping it. */
export function dataKeyAssociatedData(secretId: string, keyVersion: number): Buffer {
  return Buffer.from(JSON.stringify(['waggle-vault-data-key-v1', secretId, keyVersion]), 'utf8');
}

/** Associated data of a key version's key, wrapped by the master key. */
export function keyVersionAssociatedData(version: number): Buffer {
  return Buffer.from(JSON.stringify(['waggle-vault-key-version-v1', version]), 'utf8');
}

/**
 * The master key's check value: an HMAC of a fixed label. Stored once; a vault started with
 * another key sees a different value and refuses to start (it reveals nothing of the key).
 */
export function keyCheckValue(masterKey: Buffer): Buffer {
  return createHmac('sha256', masterKey).update('waggle-vault key check value v1').digest();
}

export function sameCheckValue(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Reads a master key: 32 bytes as base64 (44 characters) or hex (64). Anything else is
 * refused with what is wrong (never with the value).
 */
export function parseMasterKey(text: string | undefined): { key?: Buffer; problem?: string } {
  const value = (text ?? '').trim();
  if (!value) {
    return { problem: 'missing' };
  }
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0) {
    key = Buffer.from(value, 'hex');
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    key = Buffer.from(value, 'base64');
  }
  if (!key) {
    return { problem: 'not base64 or hex' };
  }
  if (key.length !== KEY_BYTES) {
    return { problem: `${key.length} bytes where ${KEY_BYTES} are needed` };
  }
  return { key };
}

/** A new master key, as `waggle up` and deploy/init-deploy.sh write it (base64 of 32 random bytes). */
export function newMasterKeyText(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

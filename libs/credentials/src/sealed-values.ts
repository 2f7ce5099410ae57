import { createCurve } from 'nkeys.js';
import type { KeyPair } from 'nkeys.js';

import type { SealedValue } from '@waggle/contracts';

/**
 * Seals a value to one holder's public curve key (`X…`) with a one-time sender key: X25519
 * and XSalsa20-Poly1305 (nkeys' curve keys). Only the holder of the recipient's seed opens
 * it; the sender key is forgotten at once. Throws on a recipient that is not a curve key.
 */
export function sealTo(recipient: string, value: string): SealedValue {
  const sender = createCurve();
  try {
    return {
      sender: sender.getPublicKey(),
      sealed: Buffer.from(sender.seal(Buffer.from(value, 'utf8'), recipient)).toString('base64'),
    };
  } finally {
    sender.clear();
  }
}

/** Opens a value sealed to `key`; undefined when it was sealed to another key or altered. */
export function openSealed(key: KeyPair, value: SealedValue): string | undefined {
  try {
    const opened = key.open(Buffer.from(value.sealed, 'base64'), value.sender);
    return opened ? Buffer.from(opened).toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

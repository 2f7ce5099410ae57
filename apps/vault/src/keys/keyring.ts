import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { createCurve, fromCurveSeed } from 'nkeys.js';
import type { KeyPair } from 'nkeys.js';

import type { SealedValue } from '@waggle/contracts';
import { WaggleError } from '@waggle/contracts';
import { openSealed, sealTo as sealFor } from '@waggle/credentials';
import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

import { VaultConfig } from '../vault.config';
import {
  dataKeyAssociatedData,
  IntegrityError,
  keyCheckValue,
  keyVersionAssociatedData,
  newKey,
  open,
  pack,
  parseMasterKey,
  sameCheckValue,
  seal,
  unpack,
} from './envelope';
import { KeyRepository } from './key.repository';

const TRANSPORT_AD = Buffer.from('waggle-vault-transport-seed-v1', 'utf8');

/** Why the vault refuses to start: said plainly, without the key. */
export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
    // The reason is the whole story: no stack trace under it at start.
    this.stack = `${this.name}: ${message}`;
  }
}

/**
 * The key hierarchy in this process: the master key (from WAGGLE_VAULT_KEY, only here) wraps
 * the key versions (random keys kept wrapped in Postgres), which wrap each secret's data key.
 * Nothing else in Waggle ever holds one of these keys.
 */
@Injectable()
export class Keyring implements OnModuleInit {
  private master!: Buffer;
  private readonly versions = new Map<number, Buffer>();
  private transport!: KeyPair;
  private active = 0;

  constructor(
    private readonly config: VaultConfig,
    private readonly keys: KeyRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Runs before the vault serves anything: a wrong key stops the start. */
  async onModuleInit(): Promise<void> {
    const { key, problem } = parseMasterKey(this.config.WAGGLE_VAULT_KEY);
    if (!key) {
      throw new MasterKeyError(`WAGGLE_VAULT_KEY is unusable (${problem}); the vault cannot start`);
    }
    this.master = key;
    const check = keyCheckValue(key);
    let stored = await this.keys.masterKeyRow();
    if (!stored) {
      const transportSeed = createCurve().getSeed();
      await this.keys.initialize(
        check,
        this.wrapTransportSeed(this.master, transportSeed),
        this.wrapVersionKey(1, newKey()),
      );
      stored = await this.keys.masterKeyRow();
      this.logger.info('vault initialized: master key check value, transport key and key version 1 stored');
    }
    if (!stored || !sameCheckValue(stored.check_value, check)) {
      await this.changeMasterKey(stored);
      stored = await this.keys.masterKeyRow();
    }
    const seed = open(this.master, unpack(stored!.transport_seed), TRANSPORT_AD, 'the transport key');
    this.transport = fromCurveSeed(new Uint8Array(seed));
    seed.fill(0);
    await this.reload();
  }

  /** WAGGLE_VAULT_PREVIOUS_KEY is the stored master key: re-wrap every live key version (and the transport key) under the new one. */
  private async changeMasterKey(stored: { check_value: Buffer; transport_seed: Buffer } | undefined): Promise<void> {
    const previous = parseMasterKey(this.config.WAGGLE_VAULT_PREVIOUS_KEY).key;
    if (!stored || !previous || !sameCheckValue(stored.check_value, keyCheckValue(previous))) {
      throw new MasterKeyError(
        'WAGGLE_VAULT_KEY is not the master key this vault was started with (its key check value does not match); ' +
          'the vault cannot start. Start it with its own key; to change the master key, set the new key as ' +
          'WAGGLE_VAULT_KEY and the old one as WAGGLE_VAULT_PREVIOUS_KEY for one start.',
      );
    }
    const rows = await this.keys.versions();
    const rewrapped = rows
      .filter((row) => row.wrapped_key)
      .map((row) => {
        const versionKey = open(
          previous,
          unpack(row.wrapped_key!),
          keyVersionAssociatedData(row.version),
          `key version ${row.version}`,
        );
        return { version: row.version, wrappedKey: this.wrapVersionKey(row.version, versionKey) };
      });
    const transportSeed = open(previous, unpack(stored.transport_seed), TRANSPORT_AD, 'the transport key');
    await this.keys.replaceMasterKey(
      keyCheckValue(this.master),
      this.wrapTransportSeed(this.master, transportSeed),
      rewrapped,
    );
    this.logger.warn(
      { versions: rewrapped.length },
      'master key changed: key versions re-wrapped under WAGGLE_VAULT_KEY',
    );
  }

  private wrapTransportSeed(master: Buffer, seed: Uint8Array): Buffer {
    return pack(seal(master, Buffer.from(seed), TRANSPORT_AD));
  }

  /** The public curve key values are sealed to on their way to the vault. */
  get transportKey(): string {
    return this.transport.getPublicKey();
  }

  /** A value sealed to the transport key (by the gateway), opened; one sealed to another key is refused. */
  openIncoming(value: SealedValue): string {
    const opened = openSealed(this.transport, value);
    if (opened === undefined) {
      throw WaggleError.invalid("the value is not sealed to this vault's transport key", [
        { field: 'sealedValue', errors: ['not sealed to the transport key'] },
      ]);
    }
    return opened;
  }

  private wrapVersionKey(version: number, versionKey: Buffer): Buffer {
    return pack(seal(this.master, versionKey, keyVersionAssociatedData(version)));
  }

  /** Loads the live key versions (another replica may have rotated); forgets retired ones. */
  async reload(): Promise<void> {
    const rows = await this.keys.versions();
    this.versions.clear();
    for (const row of rows) {
      if (row.wrapped_key) {
        this.versions.set(
          row.version,
          open(
            this.master,
            unpack(row.wrapped_key),
            keyVersionAssociatedData(row.version),
            `key version ${row.version}`,
          ),
        );
      }
      if (row.state === 'active') {
        this.active = row.version;
      }
    }
  }

  get activeVersion(): number {
    return this.active;
  }

  /** Starts a rotation (null if one is under way); the new version is active here at once. */
  async beginRotation(): Promise<{ previous: number; next: number } | null> {
    const started = await this.keys.beginRotation((version) => this.wrapVersionKey(version, newKey()));
    await this.reload();
    return started;
  }

  private async versionKey(version: number): Promise<Buffer> {
    let key = this.versions.get(version);
    if (!key) {
      await this.reload();
      key = this.versions.get(version);
    }
    if (!key) {
      throw new IntegrityError(`key version ${version}`);
    }
    return key;
  }

  /** A data key wrapped under a version (by default the active one), bound to its secret. */
  async wrapDataKey(
    secretId: string,
    dataKey: Buffer,
    version = this.active,
  ): Promise<{ version: number; wrapped: Buffer }> {
    const key = await this.versionKey(version);
    return { version, wrapped: pack(seal(key, dataKey, dataKeyAssociatedData(secretId, version))) };
  }

  async unwrapDataKey(secretId: string, version: number, wrapped: Buffer): Promise<Buffer> {
    const key = await this.versionKey(version);
    return open(key, unpack(wrapped), dataKeyAssociatedData(secretId, version), `the data key of secret ${secretId}`);
  }
}

/** A value sealed to one holder's curve key; a recipient that is not a curve key is bad input. */
export function sealTo(recipient: string, value: string): SealedValue {
  try {
    return sealFor(recipient, value);
  } catch {
    throw WaggleError.invalid('not a public curve key', [{ field: 'sealKey', errors: ['not a curve key'] }]);
  }
}

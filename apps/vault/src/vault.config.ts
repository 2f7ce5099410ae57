import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidateBy } from 'class-validator';

import { HubServiceConfig } from '@waggle/config';

import { parseMasterKey } from './keys/envelope';

const KEY_HELP = 'must be 32 random bytes, base64 or hex (make one: openssl rand -base64 32)';

function IsMasterKey(variable: string, required: boolean): PropertyDecorator {
  return ValidateBy({
    name: 'isMasterKey',
    validator: {
      validate: (value: unknown) =>
        (!required && value === undefined) || (typeof value === 'string' && !parseMasterKey(value).problem),
      defaultMessage: (args) => {
        const problem = typeof args?.value === 'string' ? parseMasterKey(args.value).problem : 'missing';
        return `${variable} (or ${variable}_FILE) ${KEY_HELP}: it is ${problem}`;
      },
    },
  });
}

/** Every variable the vault reads. Validated once at boot; all problems listed at once. */
export class VaultConfig extends HubServiceConfig {
  /**
   * The master key: it wraps the key versions, which wrap each secret's data key. Only the
   * vault reads it. A missing, short or malformed key stops the service at start; a key other
   * than the one the vault was started with first is caught by the stored key check value.
   */
  @IsMasterKey('WAGGLE_VAULT_KEY', true)
  WAGGLE_VAULT_KEY!: string;

  /**
   * The master key before a master key change: at start, the key versions are re-wrapped
   * from it to WAGGLE_VAULT_KEY (then it can be dropped).
   */
  @IsOptional()
  @IsMasterKey('WAGGLE_VAULT_PREVIOUS_KEY', false)
  WAGGLE_VAULT_PREVIOUS_KEY?: string;

  /** Data keys re-wrapped per transaction during a rotation (small batches keep locks short). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  WAGGLE_VAULT_ROTATE_BATCH = 200;

  /** Port of the vault's /metrics, /health, /ready (0 disables). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WAGGLE_VAULT_METRICS_PORT = 9109;
}

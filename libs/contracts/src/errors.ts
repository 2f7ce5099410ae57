import { IsEnum, IsOptional, IsString } from 'class-validator';

/** Every error a Waggle service can report, over HTTP and over NATS. Stable: clients switch on it. */
export enum ErrorCode {
  InvalidInput = 'INVALID_INPUT',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  /** An Idempotency-Key used within its lifetime for a different request (HTTP: 422). */
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  /** Too many attempts: wait for `details.retryAfterSeconds` (HTTP: 429 with Retry-After). */
  RateLimited = 'RATE_LIMITED',
  Unavailable = 'UNAVAILABLE',
  Timeout = 'TIMEOUT',
  Internal = 'INTERNAL',
  /** Stored data failed its integrity check (an altered ciphertext, tag, nonce or associated data): nothing was decrypted. */
  IntegrityFailed = 'INTEGRITY_FAILED',
}

/** Field-level detail of an invalid input: which field, and every rule it broke. */
export interface FieldError {
  field: string;
  errors: string[];
}

/** The body of every error reply, on HTTP and in NATS replies. */
export class ErrorBody {
  /**
   * Stable error code.
   * @example "INVALID_INPUT"
   */
  @IsEnum(ErrorCode)
  code!: ErrorCode;

  /** @example "invalid to, body" */
  @IsString()
  message!: string;

  /** For INVALID_INPUT: `{ fields: [{ field, errors[] }] }` */
  @IsOptional()
  details?: unknown;

  /** Correlation id of the request, also in the logs. */
  @IsOptional()
  @IsString()
  requestId?: string;
}

/** Codes whose cause is the request itself: retrying the same request cannot succeed. */
const permanentCodes: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.InvalidInput,
  ErrorCode.Unauthenticated,
  ErrorCode.Forbidden,
  ErrorCode.NotFound,
  ErrorCode.Conflict,
  ErrorCode.IdempotencyKeyReused,
  ErrorCode.PayloadTooLarge,
  ErrorCode.IntegrityFailed,
]);

export class WaggleError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'WaggleError';
  }

  /** Whether a consumer should retry the work that raised this error. */
  get retryable(): boolean {
    return !permanentCodes.has(this.code);
  }

  toBody(requestId?: string): ErrorBody {
    return { code: this.code, message: this.message, details: this.details, requestId };
  }

  static fromBody(body: ErrorBody): WaggleError {
    return new WaggleError(body.code, body.message, body.details);
  }

  static notFound(what: string, id: string): WaggleError {
    return new WaggleError(ErrorCode.NotFound, `${what} ${JSON.stringify(id)} not found`, { [what]: id });
  }

  static idempotencyKeyReused(): WaggleError {
    return new WaggleError(
      ErrorCode.IdempotencyKeyReused,
      'this Idempotency-Key was used for a different request (another body) within its lifetime; use a new key for a new request',
    );
  }

  static invalid(message: string, fields?: FieldError[]): WaggleError {
    return new WaggleError(ErrorCode.InvalidInput, message, fields ? { fields } : undefined);
  }
}

/**
 * A repeat of an idempotent create: the stored request's fingerprint must match the new one
 * (both present), else the key was reused for another request.
 */
export function assertSameRequest(stored: string | null | undefined, given: string | undefined): void {
  if (stored && given && stored !== given) {
    throw WaggleError.idempotencyKeyReused();
  }
}

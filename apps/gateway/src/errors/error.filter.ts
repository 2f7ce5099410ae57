import { randomUUID } from 'node:crypto';

import { Catch, HttpException } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { ErrorBody } from '@waggle/contracts';
import { ErrorCode, WaggleError } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import { currentCorrelationId } from '@waggle/observability';
import { DATABASE_RETRY_AFTER_SECONDS } from '@waggle/persistence';
import { databaseUnavailableError } from '@waggle/service-kit';

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.InvalidInput]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.IdempotencyKeyReused]: 422,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Timeout]: 504,
  [ErrorCode.Internal]: 500,
  [ErrorCode.IntegrityFailed]: 500,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

function fromHttpException(error: HttpException): WaggleError {
  const status = error.getStatus();
  const code =
    status === 404
      ? ErrorCode.NotFound
      : status === 401
        ? ErrorCode.Unauthenticated
        : status === 403
          ? ErrorCode.Forbidden
          : status === 413
            ? ErrorCode.PayloadTooLarge
            : status < 500
              ? ErrorCode.InvalidInput
              : ErrorCode.Internal;
  return new WaggleError(code, error.message);
}

/** Fastify's own errors (body too large, malformed JSON, wrong content type) carry a statusCode. */
function fromFrameworkError(error: unknown): WaggleError | undefined {
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (typeof e?.statusCode !== 'number' || e.statusCode >= 500) {
    return undefined;
  }
  if (e.statusCode === 413) {
    return new WaggleError(ErrorCode.PayloadTooLarge, `request body is too large (${e.message ?? ''})`.trim());
  }
  if (e.statusCode === 415) {
    return new WaggleError(ErrorCode.InvalidInput, 'unsupported content type: send application/json');
  }
  return new WaggleError(ErrorCode.InvalidInput, e.message ?? 'bad request', e.code ? { code: e.code } : undefined);
}

/** One mapping from every error to a stable body `{ code, message, details, requestId }`. A 500 carries an error id that is in the log. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(thrown: unknown, host: ArgumentsHost) {
    // A database outage (the gateway's own) is a 503 to retry, not a bug.
    const error = databaseUnavailableError(thrown) ?? thrown;
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const requestId = currentCorrelationId() ?? String(request.id);
    let known: WaggleError | undefined =
      error instanceof WaggleError
        ? error
        : error instanceof HttpException
          ? fromHttpException(error)
          : fromFrameworkError(error);
    if (known?.code === ErrorCode.Internal) {
      known = undefined;
    }
    let body: ErrorBody;
    if (known) {
      body = known.toBody(requestId);
    } else {
      const errorId = randomUUID();
      this.logger.error({ err: error, errorId, method: request.method, url: request.url }, 'request failed');
      body = {
        code: ErrorCode.Internal,
        message: `internal error (error id ${errorId})`,
        details: { errorId },
        requestId,
      };
    }
    if (body.code === ErrorCode.Unavailable || body.code === ErrorCode.RateLimited) {
      // Whatever is unavailable (the database, a service with no replica answering) is expected back soon;
      // a limited caller is told when its window ends.
      const seconds = (body.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      void reply.header('retry-after', String(typeof seconds === 'number' ? seconds : DATABASE_RETRY_AFTER_SECONDS));
    }
    void reply.status(statusOf(body.code)).header('content-type', 'application/json').send(body);
  }
}

import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

import { ErrorBody } from '@waggle/contracts';

import { schemaRef } from './contract-schema';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; details.fields lists each field and what was wrong',
  401: 'Missing, unknown or revoked credential',
  403: 'The credential may not do this',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  422: 'The Idempotency-Key was used for a different request (IDEMPOTENCY_KEY_REUSED)',
  429: 'Too many requests (RATE_LIMITED); Retry-After says when to try again',
  502: 'Every LLM provider failed; the body lists each and why',
};

/** Documents the error responses of a route, all with the one error body. */
export const ApiErrors = (...statuses: number[]) =>
  applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status], schema: schemaRef(ErrorBody) }),
    ),
  );

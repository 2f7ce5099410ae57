import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import { ErrorCode, ErrorsRpc, IngestErrorsReply, ReportErrorBody, WaggleError } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Public } from '../auth/auth.decorators';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, schemaRef } from '../common/contract-schema';
import { decodeBody, eventOfStore, eventsOfEnvelope, ingestKeyOf } from './envelope';

const projectNumberOf = (raw: string) => {
  if (!/^\d{1,15}$/.test(raw)) {
    throw WaggleError.invalid('the project id in the path is a number (the DSN says which)', [
      { field: 'projectId', errors: ['must be a number'] },
    ]);
  }
  return Number(raw);
};

function keyOf(req: FastifyRequest): string {
  const key = ingestKeyOf(req.headers, req.url);
  if (!key) {
    throw new WaggleError(
      ErrorCode.Unauthenticated,
      'no ingest key: send X-Sentry-Auth (sentry_key=…), the sentry_key query parameter or X-Waggle-Ingest-Key',
    );
  }
  return key;
}

const bodyOf = (req: FastifyRequest): Buffer => {
  const body = req.body;
  if (!Buffer.isBuffer(body) || !body.length) {
    throw WaggleError.invalid('malformed envelope: the body is empty', [{ field: 'body', errors: ['is empty'] }]);
  }
  return decodeBody(body, req.headers['content-encoding']);
};

/**
 * Error ingestion: Sentry's envelope and store endpoints (any Sentry SDK pointed at a DSN
 * from `waggle errors dsn`), and a plain JSON report for scripts. No API token: the ingest
 * key of the project, which can do nothing but this.
 */
@ApiTags('errors')
@Controller('api')
export class IngestController {
  constructor(private readonly rpc: RpcClient) {}

  @Post(':projectId/envelope')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary:
      "Sentry's envelope endpoint (also with a trailing slash). The body is an envelope, plain or gzip/deflate (Content-Encoding), at most 1 MB either way (413); a malformed one is a 400 naming what is wrong. The ingest key in X-Sentry-Auth or the sentry_key query parameter; 429 with Retry-After over the key's rate. Answered once the events are stored",
  })
  @ApiHeader({ name: 'X-Sentry-Auth', required: false, description: 'Sentry sentry_key=KEY, sentry_version=7' })
  @ApiBody({ schema: { type: 'string', description: 'a Sentry envelope' } })
  @ApiOkResponse({ schema: schemaRef(IngestErrorsReply) })
  @ApiErrors(400, 401, 413, 429)
  envelope(@Param('projectId') projectId: string, @Req() req: FastifyRequest): Promise<IngestErrorsReply> {
    const projectNumber = projectNumberOf(projectId);
    const key = keyOf(req);
    const events = eventsOfEnvelope(bodyOf(req));
    return this.rpc.call(ErrorsRpc.ingest, { v: 1, kind: 'envelope', key, projectNumber, events });
  }

  @Post(':projectId/store')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary:
      "Sentry's older store endpoint: one event as JSON, plain or compressed; the same key, limits and answers as the envelope endpoint",
  })
  @ApiHeader({ name: 'X-Sentry-Auth', required: false, description: 'Sentry sentry_key=KEY, sentry_version=7' })
  @ApiBody({ schema: { type: 'object', description: 'a Sentry event' } })
  @ApiOkResponse({ schema: schemaRef(IngestErrorsReply) })
  @ApiErrors(400, 401, 413, 429)
  store(@Param('projectId') projectId: string, @Req() req: FastifyRequest): Promise<IngestErrorsReply> {
    const projectNumber = projectNumberOf(projectId);
    const key = keyOf(req);
    const events = [eventOfStore(bodyOf(req))];
    return this.rpc.call(ErrorsRpc.ingest, { v: 1, kind: 'store', key, projectNumber, events });
  }

  @Post('errors')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary:
      "Report an error from a script: type, message, stack trace (V8's or Python's text), node, source, tags. The project is the ingest key's (X-Waggle-Ingest-Key, or X-Sentry-Auth); no API token",
  })
  @ApiHeader({ name: 'X-Waggle-Ingest-Key', required: false })
  @ApiBodyOf(ReportErrorBody)
  @ApiOkResponse({ schema: schemaRef(IngestErrorsReply) })
  @ApiErrors(400, 401, 413, 429)
  report(@Body() body: ReportErrorBody, @Req() req: FastifyRequest): Promise<IngestErrorsReply> {
    return this.rpc.call(ErrorsRpc.ingest, { v: 1, kind: 'plain', key: keyOf(req), report: body });
  }
}

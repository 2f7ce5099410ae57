import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

import helmet from '@fastify/helmet';
import type { FastifyHelmetOptions } from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { WsAdapter } from '@nestjs/platform-ws';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

import type { ErrorBody } from '@waggle/contracts';
import { ErrorCode, INGEST_BODY_LIMIT, toFieldErrors, WaggleError } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import { NestPinoLogger, sanitizeCorrelationId, withCorrelation } from '@waggle/observability';

import { ActivityPublisher } from './activity/activity.publisher';
import { AuthService } from './auth/auth.service';
import { SESSION_COOKIE, SessionService } from './auth/session.service';
import { addContractSchemas } from './common/contract-schema';
import { jsonProblem } from './common/json-limits';
import { DASHBOARD_ASSETS, DASHBOARD_ASSETS_PREFIX } from './dashboard/dashboard.controller';
import { INGEST_CONTENT_TYPE, INGEST_PATH } from './error-groups/envelope';
import { ErrorFilter, statusOf } from './errors/error.filter';
import type { GatewayConfig } from './gateway.config';
import { GatewayModule } from './gateway.module';

const CORRELATION_HEADER = 'x-request-id';

/** Scrapes and probes: their request log lines are at debug level, so they do not flood the log. */
const QUIET_ROUTES: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

/**
 * No page runs inline script. Style *elements* may be inline: the visor's component library
 * (Mantine) and terminal (xterm.js) write their theme into `<style>` elements at run time,
 * and CSS cannot run script. Style *attributes* in markup stay refused everywhere but Swagger
 * UI's page (/docs); the visor sets styles through the CSSOM, which the policy does not govern.
 */
const isDocs = (req: IncomingMessage) => req.url?.startsWith('/docs') ?? false;
const styleSources = (req: IncomingMessage) => (isDocs(req) ? "'self' 'unsafe-inline'" : "'self'");
const styleAttributeSources = (req: IncomingMessage) => (isDocs(req) ? "'unsafe-inline'" : "'none'");

/** Nest's Fastify adapter brings its own copy of fastify's types; a plugin is the same at run time. */
const plugin = (p: unknown) => p as Parameters<NestFastifyApplication['register']>[0];

/** Security headers (helmet) on every response. */
const HELMET: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      baseUri: ["'self'"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'", 'data:'],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      imgSrc: ["'self'", 'data:'],
      objectSrc: ["'none'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: [styleSources],
      styleSrcElem: ["'self'", "'unsafe-inline'"],
      styleSrcAttr: [styleAttributeSources],
    },
  },
  xFrameOptions: { action: 'deny' },
  // HSTS is for whatever terminates TLS in front of the hub: the gateway itself often serves
  // plain HTTP on a LAN or tailnet, and HSTS would pin every port of the host to HTTPS.
  strictTransportSecurity: false,
};

export function buildOpenApi(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Waggle')
    .setDescription(
      'Control plane for AI coding agents on your own machines. Every /api route needs a bearer token (an API token with its role, or a machine credential) or the session cookie of a signed-in person, unless marked otherwise. Roles: viewer < operator < admin; each route names the lowest it admits.',
    )
    .setVersion('1')
    .addBearerAuth()
    .addCookieAuth(SESSION_COOKIE, { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE }, SESSION_COOKIE)
    .build();
  // Request and response shapes are the contract classes: their schemas come from the same decorators that validate them.
  return addContractSchemas(SwaggerModule.createDocument(app, config));
}

/**
 * `Expect: 100-continue` (curl sends it for large bodies): a body over the limit is refused
 * with 413 before the client uploads it, instead of after the server reset the upload.
 */
function refuseOversizedBeforeUpload(app: NestFastifyApplication, limit: number) {
  const server = app.getHttpServer();
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > limit) {
      const body: ErrorBody = {
        code: ErrorCode.PayloadTooLarge,
        message: `request body of ${length} bytes is over the limit of ${limit}`,
      };
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify(body));
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
}

/** Swagger UI, its assets and the OpenAPI document (JSON and YAML) all live under this prefix (main.ts). */
const DOCS_PREFIX = '/docs';
const DOCS_REALM = 'Basic realm="Waggle API docs", charset="UTF-8"';

/** The token in `Authorization`: a bearer token, or Basic's password (a browser's sign-in box; the user name is ignored). */
function docsCredential(header: string | undefined): string | undefined {
  const [scheme, value] = header?.split(/\s+/, 2) ?? [];
  if (!scheme || !value) {
    return undefined;
  }
  if (scheme.toLowerCase() === 'bearer') {
    return value;
  }
  if (scheme.toLowerCase() !== 'basic') {
    return undefined;
  }
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const [user, password] = colon < 0 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
  return password || user || undefined;
}

/**
 * /docs behind sign-in (unless WAGGLE_PUBLIC_DOCS): a signed-in person's session cookie, or any valid credential, as a bearer token
 * (curl, scripts) or as the password of HTTP Basic, which a browser asks for itself (the
 * dashboard keeps its token in the page, where a navigation to /docs cannot reach it).
 * Failures count like any failed authentication.
 */
function guardDocs(app: NestFastifyApplication) {
  const auth = app.get(AuthService);
  const sessions = app.get(SessionService);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith(DOCS_PREFIX)) {
        return;
      }
      try {
        // A person signed in on the hub's page reads the docs with the session (looked at, not extended).
        const cookie = request.headers.authorization ? undefined : sessions.cookieOf(request.headers.cookie);
        await (cookie
          ? sessions.resume(cookie, false)
          : auth.authenticate(docsCredential(request.headers.authorization), request.ip));
      } catch (thrown) {
        const error =
          thrown instanceof WaggleError
            ? thrown
            : new WaggleError(ErrorCode.Unavailable, 'sign-in could not be checked');
        const retryAfter = (error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
        if (error.code === ErrorCode.Unauthenticated) {
          void reply.header('www-authenticate', DOCS_REALM);
        }
        if (retryAfter !== undefined) {
          void reply.header('retry-after', String(retryAfter));
        }
        return reply
          .code(statusOf(error.code))
          .header('content-type', 'application/json')
          .send(error.toBody(request.id));
      }
    });
}

/**
 * Builds the gateway on Fastify. `preview` builds the route table without connecting to
 * anything (for generating the OpenAPI document and checking routes' guards).
 */
export async function createGatewayApp(
  config: GatewayConfig,
  logger: Logger,
  metrics: Registry,
  preview = false,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.WAGGLE_BODY_LIMIT_BYTES,
    // Sentry SDKs post to `/api/N/envelope/`: the trailing slash is dropped so the route matches.
    rewriteUrl: (req: { url?: string }) => {
      const url = req.url ?? '/';
      return INGEST_PATH.test(url) ? url.replace(/^(\/api\/\d+\/(?:envelope|store))\/(?=\?|$)/, '$1') : url;
    },
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      sanitizeCorrelationId(req.headers[CORRELATION_HEADER]),
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRoot(config, logger, metrics),
    adapter,
    {
      logger: new NestPinoLogger(logger),
      preview,
      abortOnError: false,
      // GitHub signs the body's bytes: the webhook checks the signature against them, not a re-encoding.
      rawBody: true,
    },
  );
  const fastify = app.getHttpAdapter().getInstance();
  const duration = new Histogram({
    name: 'waggle_gateway_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });
  // Sentry ingest bodies are read as bytes whatever type the SDK says (Node's says none; they may be gzip).
  fastify.addContentTypeParser(
    INGEST_CONTENT_TYPE,
    { parseAs: 'buffer', bodyLimit: INGEST_BODY_LIMIT },
    (_request: unknown, body: Buffer, done: (err: Error | null, body?: unknown) => void) => done(null, body),
  );
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.method === 'POST' && INGEST_PATH.test(request.url)) {
      request.headers['content-type'] = INGEST_CONTENT_TYPE;
    }
    void reply.header(CORRELATION_HEADER, request.id);
    withCorrelation(request.id, done);
  });
  // Hostile JSON (nesting that would overflow a validator's stack, text Postgres cannot store)
  // is refused here, before authentication or any handler sees it.
  fastify.addHook('preValidation', (request, reply, done) => {
    // Raw bodies (Sentry envelopes, read as bytes) are not JSON yet: the ingest route reads and bounds them.
    const problem =
      request.body === undefined || Buffer.isBuffer(request.body) ? undefined : jsonProblem(request.body);
    if (!problem) {
      done();
      return;
    }
    const body: ErrorBody = { code: ErrorCode.InvalidInput, message: problem, requestId: request.id };
    void reply.code(400).header('content-type', 'application/json').send(body);
  });
  const activity = preview ? undefined : app.get(ActivityPublisher);
  fastify.addHook('onResponse', (request, reply, done) => {
    activity?.record(request, reply.statusCode);
    // Route pattern, not the URL: labels stay bounded, and no id or query string reaches the log.
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    const line = {
      method: request.method,
      route,
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
      requestId: request.id,
    };
    if (QUIET_ROUTES.has(route)) {
      logger.debug(line, 'request');
    } else {
      logger.info(line, 'request');
    }
    done();
  });
  await app.register(plugin(helmet), HELMET);
  // After helmet: a refused /docs request carries the security headers too.
  if (!preview && !config.WAGGLE_PUBLIC_DOCS) {
    guardDocs(app);
  }
  // The visor's scripts and stylesheets (its page is served by DashboardController). Their names
  // carry a hash of their content, so a browser may keep them for a year without asking again.
  if (existsSync(DASHBOARD_ASSETS)) {
    await app.register(plugin(fastifyStatic), {
      root: DASHBOARD_ASSETS,
      prefix: DASHBOARD_ASSETS_PREFIX,
      decorateReply: false,
      index: false,
      maxAge: '365d',
      immutable: true,
      preCompressed: true,
    });
  }
  refuseOversizedBeforeUpload(app, config.WAGGLE_BODY_LIMIT_BYTES);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => {
        const fields = toFieldErrors(errors);
        return WaggleError.invalid(`invalid ${fields.map((f) => f.field).join(', ')}`, fields);
      },
    }),
  );
  app.useGlobalFilters(new ErrorFilter(logger));
  app.useWebSocketAdapter(new WsAdapter(app));
  // No enableShutdownHooks: the host (runHosted) stops the app on SIGTERM/SIGINT, beside any other service in the process.
  return app;
}

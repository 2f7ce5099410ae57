import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import {
  ApiExcludeEndpoint,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';

import { ROLES } from '@waggle/contracts';
import { JetStreamKeeper, METRICS, NATS, readinessChecks, servicesAnswer } from '@waggle/service-kit';

import { Auth, CurrentPrincipal, Public } from '../auth/auth.decorators';
import { GatewayConfig } from '../gateway.config';
import type { Principal } from '../auth/principal';

class HealthDto {
  @ApiProperty({ example: 'ok' }) status!: string;
}

class ReadyDto {
  @ApiProperty({ example: 'ok', enum: ['ok', 'unavailable'] }) status!: string;
  @ApiProperty({ example: { nats: true, jetstream: true, postgres: true } }) checks!: Record<string, boolean>;
}

class WhoAmIDto {
  @ApiProperty({ enum: ['token', 'user', 'machine'] }) kind!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES, required: false, description: "an API token's or a person's role (none for a machine)" })
  role?: string;
}

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(METRICS) private readonly metrics: Registry,
    private readonly dataSource: DataSource,
    private readonly streams: JetStreamKeeper,
    private readonly config: GatewayConfig,
  ) {}

  @Get('health')
  @Public()
  @ApiOperation({ summary: 'Liveness: the gateway process answers' })
  @ApiOkResponse({ type: HealthDto })
  health(): HealthDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({
    summary:
      'Readiness: NATS and Postgres are reachable, JetStream holds every stream, and each hub service of WAGGLE_GATEWAY_REQUIRED_SERVICES answers over NATS',
  })
  @ApiOkResponse({ type: ReadyDto })
  @ApiServiceUnavailableResponse({ type: ReadyDto })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadyDto> {
    const [own, services] = await Promise.all([
      readinessChecks(this.nc, this.dataSource, this.streams),
      servicesAnswer(this.nc, this.config.WAGGLE_GATEWAY_REQUIRED_SERVICES),
    ]);
    const checks = { ...own, ...Object.fromEntries(Object.entries(services).map(([s, up]) => [`service:${s}`, up])) };
    const ok = Object.values(checks).every(Boolean);
    void reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', checks };
  }

  @Get('metrics')
  @Public()
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.metrics();
  }

  @Get('api/auth/whoami')
  @Auth('viewer', 'machine')
  @ApiOperation({ summary: 'Who the presented credential belongs to' })
  @ApiOkResponse({ type: WhoAmIDto })
  whoami(@CurrentPrincipal() principal: Principal): WhoAmIDto {
    return principal.kind === 'machine'
      ? { kind: principal.kind, name: principal.name }
      : { kind: principal.kind, name: principal.name, role: principal.role };
  }
}

import { randomUUID } from 'node:crypto';

import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { Page } from '@waggle/contracts';
import {
  ApiTokenView,
  CreateApiTokenBody,
  CreatedApiToken,
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  isTimeCursor,
  ListApiTokensQuery,
  WaggleError,
} from '@waggle/contracts';
import { hashToken, newToken, TokenPrefix } from '@waggle/credentials';

import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';
import type { ApiTokenEntity } from './api-token.entity';
import { ApiTokenRepository } from './api-token.repository';
import { Auth } from './auth.decorators';
import { AuthService } from './auth.service';

const tokenId = new ParseUUIDPipe({
  exceptionFactory: () => WaggleError.invalid('token id must be a UUID', [{ field: 'id', errors: ['must be a UUID'] }]),
});

function tokenView(row: ApiTokenEntity): ApiTokenView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

/** API tokens for scripts (admin only), each with the role it acts with. */
@ApiTags('tokens')
@ApiBearerAuth()
@Controller('api/tokens')
export class ApiTokensController {
  constructor(
    private readonly tokens: ApiTokenRepository,
    private readonly auth: AuthService,
  ) {}

  @Get()
  @Auth('admin')
  @ApiOperation({ summary: 'List API tokens, newest first (paginated); never the tokens themselves' })
  @ApiQueryOf(ListApiTokensQuery)
  @ApiOkResponse({ schema: pageOf(ApiTokenView) })
  @ApiErrors(400, 401, 403)
  async list(@Query() query: ListApiTokensQuery): Promise<Page<ApiTokenView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.tokens.listBefore(decodeCursor(query.cursor, isTimeCursor), limit + 1);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(tokenView),
      ...(rows.length > limit && last
        ? { nextCursor: encodeCursor({ at: last.createdAt.toISOString(), id: last.id }) }
        : {}),
    };
  }

  @Post()
  @Auth('admin')
  @ApiOperation({ summary: 'Make an API token with a role; the token is shown this once (only its hash is kept)' })
  @ApiBodyOf(CreateApiTokenBody)
  @ApiCreatedResponse({ schema: schemaRef(CreatedApiToken) })
  @ApiErrors(400, 401, 403)
  async create(@Body() body: CreateApiTokenBody): Promise<CreatedApiToken> {
    const token = newToken(TokenPrefix.api);
    const row = await this.tokens.insert({
      id: randomUUID(),
      name: body.name,
      role: body.role,
      tokenHash: hashToken(token),
    });
    return { ...tokenView(row), token };
  }

  @Delete(':id')
  @Auth('admin')
  @ApiOperation({ summary: 'Revoke an API token: refused from this answer on, on every gateway replica' })
  @ApiOkResponse({ schema: schemaRef(ApiTokenView) })
  @ApiErrors(400, 401, 403, 404)
  async revoke(@Param('id', tokenId) id: string): Promise<ApiTokenView> {
    await this.tokens.revoke(id);
    const row = await this.tokens.findById(id);
    if (!row) {
      throw WaggleError.notFound('token', id);
    }
    this.auth.tokenRevoked(id);
    return tokenView(row);
  }
}

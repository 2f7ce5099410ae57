import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import type { Page } from '@waggle/contracts';
import {
  GithubLinkView,
  GithubRpc,
  ListLinksRequest,
  ListReposRequest,
  WaggleError,
  WatchedRepoCreated,
  WatchedRepoView,
  WatchRepoBody,
  WebhookReply,
} from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth, Public } from '../auth/auth.decorators';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';

/** The GitHub bot's HTTP edge: watched repositories, issue ↔ task ↔ pull request links, and GitHub's webhook. */
@ApiTags('github')
@Controller('api/github')
export class GithubController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('repos')
  @Auth('admin')
  @ApiBearerAuth()
  @ApiOperation({
    summary:
      'Watch a repository: its issues with the trigger label become tasks (the webhook secret, when made here, is shown once)',
  })
  @ApiBodyOf(WatchRepoBody)
  @ApiCreatedResponse({ schema: schemaRef(WatchedRepoCreated) })
  @ApiErrors(400, 401, 404, 503)
  watch(@Body() body: WatchRepoBody): Promise<WatchedRepoCreated> {
    return this.rpc.call(GithubRpc.watch, { v: 1, ...body }, 15_000);
  }

  @Get('repos')
  @Auth('viewer')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Watched repositories, with when each was last polled and any rate-limit wait' })
  @ApiQueryOf(ListReposRequest)
  @ApiOkResponse({ schema: pageOf(WatchedRepoView) })
  @ApiErrors(400, 401)
  repos(@Query() query: ListReposRequest): Promise<Page<WatchedRepoView>> {
    return this.rpc.call(GithubRpc.listRepos, query);
  }

  @Delete('repos/:owner/:name')
  @Auth('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Stop watching a repository (its links are kept)' })
  @ApiOkResponse({ schema: schemaRef(WatchedRepoView) })
  @ApiErrors(400, 401, 404)
  unwatch(@Param('owner') owner: string, @Param('name') name: string): Promise<WatchedRepoView> {
    return this.rpc.call(GithubRpc.unwatch, { repo: `${owner}/${name}` });
  }

  @Get('links')
  @Auth('viewer')
  @ApiBearerAuth()
  @ApiOperation({
    summary:
      'Issues and the one task each became, with its status and outcome (pull request, follow-ups, failure), newest first',
  })
  @ApiQueryOf(ListLinksRequest)
  @ApiOkResponse({ schema: pageOf(GithubLinkView) })
  @ApiErrors(400, 401)
  links(@Query() query: ListLinksRequest): Promise<Page<GithubLinkView>> {
    return this.rpc.call(GithubRpc.listLinks, query);
  }

  @Post('webhook')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary:
      "GitHub's webhook (issues events). Needs no token: X-Hub-Signature-256 must match the repository's secret, or it is refused with 401 and nothing is stored",
  })
  @ApiHeader({ name: 'X-Hub-Signature-256', required: true })
  @ApiHeader({ name: 'X-GitHub-Event', required: true })
  @ApiHeader({ name: 'X-GitHub-Delivery', required: true })
  @ApiBody({ schema: { type: 'object', description: 'the webhook payload, exactly as GitHub sent it' } })
  @ApiOkResponse({ schema: schemaRef(WebhookReply) })
  @ApiErrors(400, 401)
  webhook(
    @Req() req: RawBodyRequest<FastifyRequest>,
    @Headers('x-github-event') event: string | undefined,
    @Headers('x-github-delivery') deliveryId: string | undefined,
    @Headers('x-hub-signature-256') signature: string | undefined,
  ): Promise<WebhookReply> {
    const missing = [
      !event && 'X-GitHub-Event',
      !deliveryId && 'X-GitHub-Delivery',
      !req.rawBody && 'a JSON body',
    ].filter((m): m is string => !!m);
    if (missing.length) {
      throw WaggleError.invalid(
        `a GitHub webhook needs ${missing.join(', ')}`,
        missing.map((m) => ({ field: m, errors: ['required'] })),
      );
    }
    return this.rpc.call(
      GithubRpc.webhook,
      { v: 1, deliveryId: deliveryId!, event: event!, signature, body: req.rawBody!.toString('utf8') },
      15_000,
    );
  }
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

import { Public } from '../auth/auth.decorators';

/** The dashboard's files: its page, and the script and stylesheet the page loads from DASHBOARD_ASSETS_PREFIX. */
export const DASHBOARD_ASSETS = join(__dirname, '..', '..', 'assets', 'dashboard');
export const DASHBOARD_ASSETS_PREFIX = '/dashboard/';

/**
 * The dashboard is one static page; it asks for the token and talks to /api and /ws itself.
 * Its script and styles are files (served by @fastify/static), so the Content-Security-Policy
 * every response carries (app.ts) needs no 'unsafe-inline'.
 */
@ApiExcludeController()
@Controller()
export class DashboardController {
  private readonly page = readFileSync(join(DASHBOARD_ASSETS, 'index.html'), 'utf8');

  @Get()
  @Public()
  @Header('content-type', 'text/html; charset=utf-8')
  index(): string {
    return this.page;
  }
}

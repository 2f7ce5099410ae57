import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

import { Public } from '../auth/auth.decorators';

/** The dashboard is one static page; it asks for the token and talks to /api and /ws itself. */
@ApiExcludeController()
@Controller()
export class DashboardController {
  private readonly page = readFileSync(join(__dirname, '..', '..', 'assets', 'dashboard.html'), 'utf8');

  @Get()
  @Public()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:")
  index(): string {
    return this.page;
  }
}

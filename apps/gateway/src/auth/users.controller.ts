import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import type { Page } from '@waggle/contracts';
import { CreatedUser, CreateUserBody, ListUsersQuery, UpdateUserBody, UserView } from '@waggle/contracts';

import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';
import { Auth, CurrentPrincipal } from './auth.decorators';
import type { Principal } from './principal';
import { UsersService } from './users.service';

/** People's accounts (admin only). Passwords are write-only: no answer carries one, except a generated one, once. */
@ApiTags('users')
@ApiBearerAuth()
@Controller('api/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Auth('admin')
  @ApiOperation({ summary: 'List accounts in name order (paginated)' })
  @ApiQueryOf(ListUsersQuery)
  @ApiOkResponse({ schema: pageOf(UserView) })
  @ApiErrors(400, 401, 403)
  list(@Query() query: ListUsersQuery): Promise<Page<UserView>> {
    return this.users.list(query);
  }

  @Post()
  @Auth('admin')
  @ApiOperation({
    summary: 'Add an account; without a password the hub makes one and answers it this once (only its hash is kept)',
  })
  @ApiBodyOf(CreateUserBody)
  @ApiCreatedResponse({ schema: schemaRef(CreatedUser) })
  @ApiErrors(400, 401, 403, 409)
  create(@Body() body: CreateUserBody, @CurrentPrincipal() principal: Principal): Promise<CreatedUser> {
    return this.users.create(body, principal.name);
  }

  @Get(':id')
  @Auth('admin')
  @ApiOperation({ summary: 'One account, by id or name' })
  @ApiOkResponse({ schema: schemaRef(UserView) })
  @ApiErrors(401, 403, 404)
  get(@Param('id') id: string): Promise<UserView> {
    return this.users.get(id);
  }

  @Patch(':id')
  @Auth('admin')
  @ApiOperation({
    summary:
      'Change an account (by id or name): role, password (ends its sessions), disabled (ends its sessions). The last enabled admin cannot be demoted or disabled (409)',
  })
  @ApiBodyOf(UpdateUserBody)
  @ApiOkResponse({ schema: schemaRef(UserView) })
  @ApiErrors(400, 401, 403, 404, 409)
  update(
    @Param('id') id: string,
    @Body() body: UpdateUserBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<UserView> {
    return this.users.update(id, body, principal.name);
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth('admin')
  @ApiOperation({ summary: 'Remove an account (by id or name) and end its sessions. Not the last enabled admin (409)' })
  @ApiNoContentResponse()
  @ApiErrors(401, 403, 404, 409)
  remove(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    return this.users.remove(id, principal.name);
  }
}

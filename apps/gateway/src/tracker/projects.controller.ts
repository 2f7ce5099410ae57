import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { Page } from '@waggle/contracts';
import {
  CreateBugBody,
  CreateFeatureBody,
  CreateMilestoneBody,
  CreateProjectBody,
  DeletedReply,
  ImportProjectsBody,
  ImportProjectsReply,
  LabelledIssuesBody,
  ListProjectsQuery,
  ListWorkItemsQuery,
  MilestoneView,
  PageQuery,
  ProjectView,
  TrackerRpc,
  UpdateProjectBody,
  WatchedRepoCreated,
  WatchedRepoView,
  WorkItemView,
} from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { senderOf } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';
import { projectRef } from './tracker-params';

/**
 * The tracker's projects, with their milestones, features and bugs. Writes are meant for
 * operators once accounts have roles; until then an admin token makes them.
 */
@ApiTags('tracker')
@ApiBearerAuth()
@Controller('api/projects')
export class ProjectsController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @Auth('operator')
  @ApiOperation({ summary: 'Create a project (its key is made from the name when not given)' })
  @ApiBodyOf(CreateProjectBody)
  @ApiCreatedResponse({ schema: schemaRef(ProjectView) })
  @ApiErrors(400, 401, 409)
  create(@Body() body: CreateProjectBody, @CurrentPrincipal() principal: Principal): Promise<ProjectView> {
    return this.rpc.call(TrackerRpc.createProject, { v: 1, ...body, actor: senderOf(principal) });
  }

  @Post('import')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({
    summary:
      'A project for every repository machines report under their source folders that no project has yet, matched by remote URL (dryRun: only say what would be made)',
  })
  @ApiBodyOf(ImportProjectsBody)
  @ApiOkResponse({ schema: schemaRef(ImportProjectsReply) })
  @ApiErrors(400, 401)
  import(@Body() body: ImportProjectsBody, @CurrentPrincipal() principal: Principal): Promise<ImportProjectsReply> {
    return this.rpc.call(TrackerRpc.importProjects, { v: 1, ...body, actor: senderOf(principal) }, 30_000);
  }

  @Get()
  @Auth('viewer')
  @ApiOperation({ summary: 'Projects in key order (search with q; paginated)' })
  @ApiQueryOf(ListProjectsQuery)
  @ApiOkResponse({ schema: pageOf(ProjectView) })
  @ApiErrors(400, 401)
  list(@Query() query: ListProjectsQuery): Promise<Page<ProjectView>> {
    return this.rpc.call(TrackerRpc.listProjects, query);
  }

  @Get(':project')
  @Auth('viewer')
  @ApiOperation({ summary: 'A project, by key or id' })
  @ApiOkResponse({ schema: schemaRef(ProjectView) })
  @ApiErrors(400, 401, 404)
  get(@Param('project', projectRef) project: string): Promise<ProjectView> {
    return this.rpc.call(TrackerRpc.getProject, { project });
  }

  @Patch(':project')
  @Auth('operator')
  @ApiOperation({ summary: 'Change a project (only the fields given)' })
  @ApiBodyOf(UpdateProjectBody)
  @ApiOkResponse({ schema: schemaRef(ProjectView) })
  @ApiErrors(400, 401, 404)
  update(
    @Param('project', projectRef) project: string,
    @Body() body: UpdateProjectBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ProjectView> {
    return this.rpc.call(TrackerRpc.updateProject, { v: 1, ...body, project, actor: senderOf(principal) });
  }

  @Delete(':project')
  @Auth('operator')
  @ApiOperation({ summary: 'Delete a project with its milestones, features, bugs, comments and history' })
  @ApiOkResponse({ schema: schemaRef(DeletedReply) })
  @ApiErrors(400, 401, 404)
  delete(
    @Param('project', projectRef) project: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeletedReply> {
    return this.rpc.call(TrackerRpc.deleteProject, { project, actor: senderOf(principal) });
  }

  @Post(':project/milestones')
  @Auth('operator')
  @ApiOperation({ summary: 'Add a milestone (at a position in the order, or last)' })
  @ApiBodyOf(CreateMilestoneBody)
  @ApiCreatedResponse({ schema: schemaRef(MilestoneView) })
  @ApiErrors(400, 401, 404)
  createMilestone(
    @Param('project', projectRef) project: string,
    @Body() body: CreateMilestoneBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<MilestoneView> {
    return this.rpc.call(TrackerRpc.createMilestone, { v: 1, ...body, project, actor: senderOf(principal) });
  }

  @Get(':project/milestones')
  @Auth('viewer')
  @ApiOperation({ summary: "A project's milestones in order, each with its progress" })
  @ApiQueryOf(PageQuery)
  @ApiOkResponse({ schema: pageOf(MilestoneView) })
  @ApiErrors(400, 401, 404)
  milestones(@Param('project', projectRef) project: string, @Query() query: PageQuery): Promise<Page<MilestoneView>> {
    return this.rpc.call(TrackerRpc.listMilestones, { ...query, project });
  }

  @Post(':project/features')
  @Auth('operator')
  @ApiOperation({ summary: 'Propose a feature (its spec in Markdown)' })
  @ApiBodyOf(CreateFeatureBody)
  @ApiCreatedResponse({ schema: schemaRef(WorkItemView) })
  @ApiErrors(400, 401, 404)
  createFeature(
    @Param('project', projectRef) project: string,
    @Body() body: CreateFeatureBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<WorkItemView> {
    return this.rpc.call(TrackerRpc.createFeature, { v: 1, ...body, project, actor: senderOf(principal) });
  }

  @Get(':project/features')
  @Auth('viewer')
  @ApiOperation({
    summary: "A project's features, newest first (filter by status, priority, milestone; search with q)",
  })
  @ApiQueryOf(ListWorkItemsQuery)
  @ApiOkResponse({ schema: pageOf(WorkItemView) })
  @ApiErrors(400, 401, 404)
  features(
    @Param('project', projectRef) project: string,
    @Query() query: ListWorkItemsQuery,
  ): Promise<Page<WorkItemView>> {
    return this.rpc.call(TrackerRpc.listItems, { ...query, kind: 'feature', project });
  }

  @Post(':project/bugs')
  @Auth('operator')
  @ApiOperation({ summary: 'Report a bug (description, steps, environment, severity)' })
  @ApiBodyOf(CreateBugBody)
  @ApiCreatedResponse({ schema: schemaRef(WorkItemView) })
  @ApiErrors(400, 401, 404)
  createBug(
    @Param('project', projectRef) project: string,
    @Body() body: CreateBugBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<WorkItemView> {
    return this.rpc.call(TrackerRpc.createBug, { v: 1, ...body, project, actor: senderOf(principal) });
  }

  @Get(':project/bugs')
  @Auth('viewer')
  @ApiOperation({
    summary: "A project's bugs, newest first (filter by status, severity, priority, milestone; search with q)",
  })
  @ApiQueryOf(ListWorkItemsQuery)
  @ApiOkResponse({ schema: pageOf(WorkItemView) })
  @ApiErrors(400, 401, 404)
  bugs(@Param('project', projectRef) project: string, @Query() query: ListWorkItemsQuery): Promise<Page<WorkItemView>> {
    return this.rpc.call(TrackerRpc.listItems, { ...query, kind: 'bug', project });
  }

  @Put(':project/labelled-issues')
  @Auth('admin')
  @ApiOperation({
    summary:
      "Agents work on the project's labelled issues: its GitHub repository becomes the GitHub bot's watched repository (the webhook secret, when made here, is shown once); each issue taken appears as a bug of the project",
  })
  @ApiBodyOf(LabelledIssuesBody)
  @ApiOkResponse({ schema: schemaRef(WatchedRepoCreated) })
  @ApiErrors(400, 401, 404, 503)
  watchLabelled(
    @Param('project', projectRef) project: string,
    @Body() body: LabelledIssuesBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<WatchedRepoCreated> {
    return this.rpc.call(TrackerRpc.watchLabelled, { v: 1, ...body, project, actor: senderOf(principal) }, 20_000);
  }

  @Get(':project/labelled-issues')
  @Auth('viewer')
  @ApiOperation({ summary: "Whether agents work on the project's labelled issues: the GitHub bot's watch (404: off)" })
  @ApiOkResponse({ schema: schemaRef(WatchedRepoView) })
  @ApiErrors(400, 401, 404)
  labelled(@Param('project', projectRef) project: string): Promise<WatchedRepoView> {
    return this.rpc.call(TrackerRpc.getLabelled, { project }, 15_000);
  }

  @Delete(':project/labelled-issues')
  @Auth('admin')
  @ApiOperation({
    summary: "Stop handing the project's labelled issues to agents (issues already taken keep their bugs)",
  })
  @ApiOkResponse({ schema: schemaRef(WatchedRepoView) })
  @ApiErrors(400, 401, 404)
  unwatchLabelled(
    @Param('project', projectRef) project: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<WatchedRepoView> {
    return this.rpc.call(TrackerRpc.unwatchLabelled, { project, actor: senderOf(principal) }, 15_000);
  }
}

import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type {
  CreateProjectRequest,
  DeleteProjectRequest,
  ListProjectsRequest,
  Page,
  ProjectView,
  UpdateProjectRequest,
} from '@waggle/contracts';
import { ErrorCode, WaggleError } from '@waggle/contracts';

import { actorName, cursorKeys, iso, limitOf, pageOf } from '../common/paging';
import type { ProjectChanges, ProjectRow } from './project.repository';
import { ProjectRepository } from './project.repository';
import { keyFromName, remoteKey } from './remote-key';

@Injectable()
export class ProjectsService {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly dataSource: DataSource,
  ) {}

  async create(req: CreateProjectRequest): Promise<ProjectView> {
    const base = {
      id: randomUUID(),
      name: req.name,
      description: req.description ?? '',
      repository: req.repository ?? null,
      remote_key: req.repository ? remoteKey(req.repository) : null,
      default_branch: req.defaultBranch ?? 'main',
      source_path: req.sourcePath ?? null,
      placement: req.placement ?? {},
      created_by: actorName(req.actor),
    };
    if (req.key) {
      const row = await this.projects.insert({ ...base, key: req.key });
      if (!row) {
        throw new WaggleError(ErrorCode.Conflict, `a project with key "${req.key}" exists`, { key: req.key });
      }
      return this.view(row);
    }
    // No key given: the name's slug, numbered when taken.
    const stem = keyFromName(req.name);
    for (let n = 1; n <= 50; n++) {
      const row = await this.projects.insert({ ...base, key: n === 1 ? stem : `${stem}-${n}` });
      if (row) {
        return this.view(row);
      }
    }
    throw new WaggleError(ErrorCode.Conflict, `too many projects are named like "${req.name}": give a key`);
  }

  async get(ref: string): Promise<ProjectView> {
    return this.view(await this.find(ref));
  }

  async find(ref: string): Promise<ProjectRow> {
    const row = await this.projects.findByRef(ref);
    if (!row) {
      throw WaggleError.notFound('project', ref);
    }
    return row;
  }

  async list(req: ListProjectsRequest): Promise<Page<ProjectView>> {
    const limit = limitOf(req.limit);
    const [afterKey] = cursorKeys(req.cursor) ?? [];
    const rows = await this.projects.list({ q: req.q, afterKey, limit });
    return pageOf(
      rows,
      limit,
      (r) => [r.key],
      (r) => this.view(r),
    );
  }

  async update(req: UpdateProjectRequest): Promise<ProjectView> {
    const row = await this.find(req.project);
    const changes: ProjectChanges = {};
    if (req.name !== undefined) {
      changes.name = req.name;
    }
    if (req.description !== undefined) {
      changes.description = req.description;
    }
    if (req.repository !== undefined) {
      changes.repository = req.repository;
      changes.remote_key = remoteKey(req.repository);
    }
    if (req.defaultBranch !== undefined) {
      changes.default_branch = req.defaultBranch;
    }
    if (req.sourcePath !== undefined) {
      changes.source_path = req.sourcePath;
    }
    if (req.placement !== undefined) {
      changes.placement = req.placement;
    }
    await this.projects.update(this.dataSource, row.id, changes);
    return this.get(row.id);
  }

  async delete(req: DeleteProjectRequest): Promise<{ deleted: true }> {
    const row = await this.find(req.project);
    if (!(await this.projects.delete(row.id))) {
      throw WaggleError.notFound('project', req.project);
    }
    return { deleted: true };
  }

  view(row: ProjectRow): ProjectView {
    return {
      id: row.id,
      key: row.key,
      name: row.name,
      description: row.description,
      repository: row.repository,
      defaultBranch: row.default_branch,
      sourcePath: row.source_path,
      placement: row.placement,
      openItems: Number(row.open_items ?? 0),
      createdAt: iso(row.created_at)!,
      updatedAt: iso(row.updated_at)!,
    };
  }
}

import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type {
  CreateMilestoneRequest,
  ListMilestonesRequest,
  MilestoneView,
  Page,
  UpdateMilestoneRequest,
} from '@waggle/contracts';
import { WaggleError } from '@waggle/contracts';

import { iso, limitOf, numericCursor, pageOf } from '../common/paging';
import { ProjectsService } from '../projects/projects.service';
import type { MilestoneChanges, MilestoneRow } from './milestone.repository';
import { MilestoneRepository } from './milestone.repository';

@Injectable()
export class MilestonesService {
  constructor(
    private readonly milestones: MilestoneRepository,
    private readonly projects: ProjectsService,
    private readonly dataSource: DataSource,
  ) {}

  async create(req: CreateMilestoneRequest): Promise<MilestoneView> {
    const project = await this.projects.find(req.project);
    const id = randomUUID();
    await this.dataSource.transaction((manager) =>
      this.milestones.insert(
        manager,
        {
          id,
          project_id: project.id,
          title: req.title,
          description: req.description ?? '',
          target_date: req.targetDate ?? null,
        },
        req.position,
      ),
    );
    return this.get(id);
  }

  async get(id: string): Promise<MilestoneView> {
    return this.view(await this.find(id));
  }

  async find(id: string): Promise<MilestoneRow> {
    const row = await this.milestones.findById(id);
    if (!row) {
      throw WaggleError.notFound('milestone', id);
    }
    return row;
  }

  async list(req: ListMilestonesRequest): Promise<Page<MilestoneView>> {
    const project = await this.projects.find(req.project);
    const limit = limitOf(req.limit);
    const after = numericCursor(req.cursor);
    const rows = await this.milestones.list(project.id, after === undefined ? undefined : Number(after), limit);
    return pageOf(
      rows,
      limit,
      (r) => [String(r.position)],
      (r) => this.view(r),
    );
  }

  async update(req: UpdateMilestoneRequest): Promise<MilestoneView> {
    const row = await this.find(req.milestoneId);
    const changes: MilestoneChanges = {};
    if (req.title !== undefined) {
      changes.title = req.title;
    }
    if (req.description !== undefined) {
      changes.description = req.description;
    }
    if (req.targetDate !== undefined) {
      changes.target_date = req.targetDate;
    }
    if (req.state !== undefined) {
      changes.state = req.state;
    }
    await this.dataSource.transaction(async (manager) => {
      await this.milestones.update(manager, row.id, changes);
      if (req.position !== undefined) {
        await this.milestones.move(manager, row, req.position);
      }
    });
    return this.get(row.id);
  }

  async delete(id: string): Promise<{ deleted: true }> {
    const row = await this.find(id);
    await this.dataSource.transaction((manager) => this.milestones.delete(manager, row));
    return { deleted: true };
  }

  view(row: MilestoneRow): MilestoneView {
    const total = Number(row.total);
    const closed = Number(row.closed);
    return {
      id: row.id,
      projectId: row.project_id,
      title: row.title,
      description: row.description,
      targetDate: row.target_date,
      state: row.state,
      position: row.position,
      progress: { total, closed, percent: total ? Math.floor((closed * 100) / total) : 0 },
      createdAt: iso(row.created_at)!,
      updatedAt: iso(row.updated_at)!,
    };
  }
}

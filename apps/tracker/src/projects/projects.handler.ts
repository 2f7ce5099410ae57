import { Controller } from '@nestjs/common';

import {
  CreateProjectRequest,
  DeleteProjectRequest,
  LabelledIssuesRequest,
  ListProjectsRequest,
  ProjectRefRequest,
  TrackerRpc,
  UpdateProjectRequest,
} from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { LabelledIssuesService } from './labelled-issues.service';
import { ProjectsService } from './projects.service';

@Controller()
export class ProjectsHandler {
  constructor(
    private readonly projects: ProjectsService,
    private readonly labelled: LabelledIssuesService,
  ) {}

  @HandleRpc(TrackerRpc.createProject)
  create(req: CreateProjectRequest) {
    return this.projects.create(req);
  }

  @HandleRpc(TrackerRpc.listProjects)
  list(req: ListProjectsRequest) {
    return this.projects.list(req);
  }

  @HandleRpc(TrackerRpc.getProject)
  get(req: ProjectRefRequest) {
    return this.projects.get(req.project);
  }

  @HandleRpc(TrackerRpc.updateProject)
  update(req: UpdateProjectRequest) {
    return this.projects.update(req);
  }

  @HandleRpc(TrackerRpc.deleteProject)
  delete(req: DeleteProjectRequest) {
    return this.projects.delete(req);
  }

  @HandleRpc(TrackerRpc.watchLabelled)
  watchLabelled(req: LabelledIssuesRequest) {
    return this.labelled.watch(req);
  }

  @HandleRpc(TrackerRpc.getLabelled)
  getLabelled(req: ProjectRefRequest) {
    return this.labelled.get(req);
  }

  @HandleRpc(TrackerRpc.unwatchLabelled)
  unwatchLabelled(req: DeleteProjectRequest) {
    return this.labelled.unwatch(req);
  }
}

import { Controller } from '@nestjs/common';

import {
  CreateBugRequest,
  CreateCommentRequest,
  CreateFeatureRequest,
  ItemPageRequest,
  ListWorkItemsRequest,
  TrackerRpc,
  UpdateBugRequest,
  UpdateFeatureRequest,
  WorkItemRefRequest,
} from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { ItemsService } from './items.service';

@Controller()
export class ItemsHandler {
  constructor(private readonly items: ItemsService) {}

  @HandleRpc(TrackerRpc.createFeature)
  createFeature(req: CreateFeatureRequest) {
    return this.items.createFeature(req);
  }

  @HandleRpc(TrackerRpc.updateFeature)
  updateFeature(req: UpdateFeatureRequest) {
    return this.items.updateFeature(req);
  }

  @HandleRpc(TrackerRpc.createBug)
  createBug(req: CreateBugRequest) {
    return this.items.createBug(req);
  }

  @HandleRpc(TrackerRpc.updateBug)
  updateBug(req: UpdateBugRequest) {
    return this.items.updateBug(req);
  }

  @HandleRpc(TrackerRpc.listItems)
  list(req: ListWorkItemsRequest) {
    return this.items.list(req);
  }

  @HandleRpc(TrackerRpc.getItem)
  get(req: WorkItemRefRequest) {
    return this.items.get(req.kind, req.itemId);
  }

  @HandleRpc(TrackerRpc.deleteItem)
  delete(req: WorkItemRefRequest) {
    return this.items.delete(req.kind, req.itemId);
  }

  @HandleRpc(TrackerRpc.comment)
  comment(req: CreateCommentRequest) {
    return this.items.comment(req);
  }

  @HandleRpc(TrackerRpc.listComments)
  comments(req: ItemPageRequest) {
    return this.items.comments(req);
  }

  @HandleRpc(TrackerRpc.history)
  history(req: ItemPageRequest) {
    return this.items.history(req);
  }
}

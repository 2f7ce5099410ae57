import type { BugStatus, FeatureStatus, WorkItemKind, WorkItemStatus } from '@waggle/contracts';
import {
  BUG_STATUSES,
  BUG_TRANSITIONS,
  ErrorCode,
  FEATURE_STATUSES,
  FEATURE_TRANSITIONS,
  WaggleError,
} from '@waggle/contracts';

export const statusesOf = (kind: WorkItemKind): readonly WorkItemStatus[] =>
  kind === 'feature' ? FEATURE_STATUSES : BUG_STATUSES;

/** Where an item may be moved by a person from `from`. */
export function allowedFrom(kind: WorkItemKind, from: WorkItemStatus): readonly WorkItemStatus[] {
  return kind === 'feature'
    ? (FEATURE_TRANSITIONS[from as FeatureStatus] ?? [])
    : (BUG_TRANSITIONS[from as BugStatus] ?? []);
}

/** Refuses a status of the other kind (400) and a move the workflow does not allow (409), naming both. */
export function checkTransition(kind: WorkItemKind, from: WorkItemStatus, to: WorkItemStatus): void {
  if (!statusesOf(kind).includes(to)) {
    throw WaggleError.invalid(`"${to}" is not a ${kind} status (one of ${statusesOf(kind).join(', ')})`, [
      { field: 'status', errors: [`must be one of ${statusesOf(kind).join(', ')}`] },
    ]);
  }
  if (from === to) {
    return;
  }
  const allowed = allowedFrom(kind, from);
  if (!allowed.includes(to)) {
    throw new WaggleError(
      ErrorCode.Conflict,
      `a ${kind} cannot move from ${from} to ${to} (from ${from}: ${allowed.join(', ') || 'nowhere'})`,
      { from, to, allowed },
    );
  }
}

/** Where an item goes when an agent takes it, and when its pull request opens. */
export const IN_PROGRESS: WorkItemStatus = 'in_progress';
export const reviewStatusOf = (kind: WorkItemKind): WorkItemStatus => (kind === 'feature' ? 'review' : 'fixed');
/** Statuses from which an item can be handed to an agent. */
export function assignable(kind: WorkItemKind, status: WorkItemStatus): boolean {
  return kind === 'feature'
    ? ['proposed', 'planned', 'in_progress'].includes(status)
    : ['open', 'triaged', 'in_progress'].includes(status);
}

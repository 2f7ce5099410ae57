import type { WorkItemKind } from '@waggle/contracts';

const PROMPT_LIMIT = 190_000;

export interface PromptItem {
  kind: WorkItemKind;
  ref: string;
  title: string;
  body: string;
  steps: string | null;
  environment: string | null;
  severity: string | null;
  priority: string;
}

export interface PromptProject {
  name: string;
  repository: string;
  defaultBranch: string;
  description: string;
}

/**
 * The agent's prompt for a work item: what the project is, the item's spec (or the bug's
 * description, steps and environment), the people's comments, then what to deliver.
 */
export function itemPrompt(
  project: PromptProject,
  item: PromptItem,
  comments: { author: string; at: string; body: string }[],
): string {
  const parts = [
    `${item.kind === 'feature' ? 'Feature' : 'Bug'} ${item.ref} of the project ${project.name} (${project.repository}, branch ${project.defaultBranch}): ${item.title}`,
  ];
  if (project.description.trim()) {
    parts.push('', 'About the project:', project.description.trim());
  }
  if (item.kind === 'feature') {
    parts.push('', `Priority: ${item.priority}`, '', 'Spec:', item.body.trim() || '(no spec written)');
  } else {
    parts.push('', `Severity: ${item.severity ?? 'unknown'}, priority: ${item.priority}`);
    parts.push('', 'What happens:', item.body.trim() || '(no description)');
    if (item.steps?.trim()) {
      parts.push('', 'Steps to reproduce:', item.steps.trim());
    }
    if (item.environment?.trim()) {
      parts.push('', 'Environment:', item.environment.trim());
    }
  }
  if (comments.length) {
    parts.push('', 'Comments:');
    for (const c of comments) {
      parts.push('', `${c.author} (${c.at}):`, c.body.trim());
    }
  }
  parts.push(
    '',
    item.kind === 'feature'
      ? 'Build this feature in this working tree (a clone of the repository on a fresh branch). Do not push: Waggle commits, pushes and opens the pull request.'
      : 'Fix this bug in this working tree (a clone of the repository on a fresh branch), with a test that shows it fixed. Do not push: Waggle commits, pushes and opens the pull request.',
  );
  const text = parts.join('\n');
  return text.length > PROMPT_LIMIT ? `${text.slice(0, PROMPT_LIMIT)}\n[…cut]` : text;
}

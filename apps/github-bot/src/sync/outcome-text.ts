import type { GithubOutcome, GithubTaskReport, TaskView } from '@waggle/contracts';

/** Hidden markers in the bot's comments: a retry, a crash or another replica finds the comment to edit instead of posting again. */
export const commentMarker = (kind: 'claimed' | 'outcome', linkId: string) => `<!-- waggle:${kind} link=${linkId} -->`;

/** Anything that looks like a GitHub token, and the values given, become [redacted]. */
export function redactSecrets(text: string, secrets: string[] = []): string {
  let out = text.replace(/\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, '[redacted]');
  for (const secret of secrets) {
    if (secret) {
      out = out.replaceAll(secret, '[redacted]');
    }
  }
  return out;
}

/** The task's GitHub report, if its machine wrote one. */
export function reportOf(task: TaskView): GithubTaskReport | undefined {
  const structured = task.result?.structured as { github?: GithubTaskReport } | undefined;
  return structured?.github;
}

export function claimedText(linkId: string, machine: string, attempt: number, taskId: string): string {
  const again = attempt > 1 ? ` (attempt ${attempt})` : '';
  return `🐝 Claimed by **${machine}**${again}: Waggle task \`${taskId}\` is working on this issue.\n\n${commentMarker('claimed', linkId)}`;
}

function fence(text: string): string {
  return '```text\n' + text.replaceAll('```', "'''") + '\n```';
}

/** A failure report: what ran, how it ended, the end of its log. Never a token. */
export function failureText(linkId: string, task: TaskView | null, reason: string, secrets: string[]): string {
  const lines = ['❌ **Waggle could not finish this issue.**', ''];
  if (task) {
    const machine = task.machine?.name ?? 'no machine';
    lines.push(
      `Task \`${task.id}\` ended **${task.state.replace('_', ' ')}** on **${machine}** (attempt ${task.attempt} of ${task.maxAttempts}).`,
      '',
    );
    const steps = reportOf(task)?.steps ?? [];
    if (steps.length) {
      lines.push('| step | what ran | exit code |', '|---|---|---|');
      for (const s of steps) {
        lines.push(
          `| ${s.step} | \`${s.command.replaceAll('|', '\\|').replaceAll('`', "'")}\` | ${s.exitCode ?? '—'} |`,
        );
      }
      lines.push('');
    }
    lines.push(`**Exit code:** ${task.result?.exitCode ?? '—'}`);
  }
  lines.push(`**Why:** ${reason}`);
  const tail = task?.result?.outputTail.trim();
  if (tail) {
    lines.push('', '<details><summary>Last lines of the log</summary>', '', fence(tail.slice(-3000)), '', '</details>');
  }
  lines.push(
    '',
    'Retry with `waggle tasks retry ' + (task?.id ?? '<task>') + '`; the outcome here will be updated.',
    '',
    commentMarker('outcome', linkId),
  );
  return redactSecrets(lines.join('\n'), secrets);
}

export interface OutcomeText {
  outcome: GithubOutcome;
  body: string;
}

/** The one outcome comment for a finished task. */
export function successText(linkId: string, task: TaskView, report: GithubTaskReport): OutcomeText | null {
  const machine = task.machine?.name ?? 'a machine';
  const marker = commentMarker('outcome', linkId);
  switch (report.outcome) {
    case 'pull_request': {
      const pr = report.pullRequest;
      if (!pr) {
        return null;
      }
      return {
        outcome: 'pull_request',
        body: `✅ **${machine}** opened pull request #${pr.number}: ${pr.url}\n\nBranch \`${pr.branch}\` at ${pr.sha.slice(0, 7)}, checked on GitHub before this link was posted.\n\n${marker}`,
      };
    }
    case 'no_changes':
      return {
        outcome: 'no_changes',
        body: `ℹ️ **${machine}** ran the agent on this issue and it changed nothing, so there is no pull request.\n\n${marker}`,
      };
    case 'follow_up': {
      const list = (report.followUps ?? []).map((f) => `- #${f.number} ${f.title}`).join('\n');
      return { outcome: 'follow_up', body: `📝 **${machine}** opened follow-up issues:\n\n${list}\n\n${marker}` };
    }
    case 'failed':
      return null;
  }
}

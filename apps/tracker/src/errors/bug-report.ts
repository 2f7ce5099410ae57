import type { ErrorEventView, ErrorGroupView } from '@waggle/contracts';

const CONTEXT_LIMIT = 8_000;

/** A stack trace as text, the innermost frame first (how people read them). */
export function stackText(event: ErrorEventView): string {
  return event.exceptions
    .map((e) =>
      [
        `${e.type}: ${e.value}`,
        ...[...e.frames]
          .reverse()
          .map(
            (f) =>
              `    at ${f.function ?? '?'} (${f.module ?? f.filename ?? '?'}${f.lineno ? `:${f.lineno}` : ''}${f.colno ? `:${f.colno}` : ''})${f.inApp === false ? '' : ' [app]'}`,
          ),
      ].join('\n'),
    )
    .join('\n\nCaused:\n');
}

/**
 * The bug made of an error group: its title, a description with the group's numbers, the
 * latest event's stack trace and context (already scrubbed), and where it was seen. An agent
 * given the bug reads this in its prompt.
 */
export function bugReport(
  group: ErrorGroupView,
  latest: ErrorEventView | undefined,
): { title: string; description: string; environment: string } {
  const lines = [
    `Error group ${group.id} (${group.projectKey}): seen ${group.count} times, first ${group.firstSeen}, last ${group.lastSeen}.`,
    group.culprit ? `Where: ${group.culprit}` : '',
    '',
  ];
  if (latest) {
    lines.push('Latest event:', '```', latest.exceptions.length ? stackText(latest) : latest.message, '```');
    if (latest.exceptions.length && latest.message) {
      lines.push('', `Message: ${latest.message}`);
    }
    if (Object.keys(latest.tags).length) {
      lines.push('', `Tags: ${JSON.stringify(latest.tags)}`);
    }
    if (Object.keys(latest.context).length) {
      const context = JSON.stringify(latest.context, null, 2);
      lines.push(
        '',
        'Context:',
        '```json',
        context.length > CONTEXT_LIMIT ? `${context.slice(0, CONTEXT_LIMIT)}\n…` : context,
        '```',
      );
    }
  }
  return {
    title: `Error: ${group.title}`.slice(0, 300),
    description: lines.filter((l, i) => l !== '' || i > 1).join('\n'),
    environment: [
      group.machines.length ? `Machines: ${group.machines.join(', ')}` : '',
      group.releases.length ? `Releases: ${group.releases.join(', ')}` : '',
      latest?.environment ? `Environment: ${latest.environment}` : '',
    ]
      .filter(Boolean)
      .join('\n'),
  };
}

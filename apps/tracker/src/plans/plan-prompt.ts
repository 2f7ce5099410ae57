import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';

import type { Priority } from '@waggle/contracts';
import { decode, PRIORITIES, WaggleError } from '@waggle/contracts';

const README_CHARS = 8_000;
const TODO_LINES = 150;

export interface PlanInput {
  project: { name: string; description: string; repository: string | null };
  readme: string | null;
  todos: string[];
  openBugs: { ref: string; title: string; severity: string | null }[];
  milestone?: string;
  maxFeatures: number;
}

/** The chat messages that ask for a milestone plan as JSON. */
export function planMessages(input: PlanInput): { role: 'system' | 'user'; content: string }[] {
  const parts = [
    `Project: ${input.project.name}${input.project.repository ? ` (${input.project.repository})` : ''}`,
    input.project.description ? `About: ${input.project.description}` : '',
    input.milestone ? `The next milestone is about: ${input.milestone}` : 'Propose the next milestone.',
    '',
    'README:',
    input.readme ? input.readme.slice(0, README_CHARS) : '(none)',
    '',
    `TODO and FIXME comments (${input.todos.length}):`,
    ...(input.todos.length ? input.todos.slice(0, TODO_LINES) : ['(none)']),
    '',
    `Open bugs (${input.openBugs.length}):`,
    ...(input.openBugs.length
      ? input.openBugs.map((b) => `- ${b.ref} [${b.severity ?? 'unknown'}] ${b.title}`)
      : ['(none)']),
  ];
  return [
    {
      role: 'system',
      content: [
        'You plan the next milestone of a software project from what its code and tracker say.',
        'Answer with one JSON object and nothing else:',
        '{"milestone": {"title": string, "description": string}, "features": [{"title": string, "spec": string (Markdown), "priority": "low" | "medium" | "high" | "urgent"}]}',
        `Propose at most ${input.maxFeatures} features, most important first.`,
      ].join('\n'),
    },
    { role: 'user', content: parts.filter((p, i) => p !== '' || i > 2).join('\n') },
  ];
}

class PlannedFeature {
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  title!: string;

  @IsOptional()
  @IsString()
  @MaxLength(100_000)
  spec?: string;

  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: Priority;
}

class PlannedMilestone {
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  title!: string;

  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  description?: string;
}

/** What the model must answer (fields it adds are ignored, not refused). */
class ModelPlan {
  @ValidateNested()
  @Type(() => PlannedMilestone)
  milestone!: PlannedMilestone;

  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => PlannedFeature)
  features!: PlannedFeature[];
}

const CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/g;

/** The plan in the model's answer (the first JSON object in it, fenced or not), cut to `maxFeatures`. */
export function parsePlan(
  content: string,
  maxFeatures: number,
): {
  milestone: { title: string; description: string };
  features: { title: string; spec: string; priority: Priority }[];
} {
  const start = content.indexOf('{');
  const end = content.lastIndexOf('}');
  let value: unknown;
  try {
    value = JSON.parse(content.slice(start, end + 1));
  } catch {
    throw WaggleError.invalid('the model did not answer with a JSON plan');
  }
  const keep = (v: { milestone?: unknown; features?: unknown }) => ({
    milestone:
      v.milestone && typeof v.milestone === 'object' ? pick(v.milestone, ['title', 'description']) : v.milestone,
    features: Array.isArray(v.features)
      ? v.features.map((f: unknown) => pick(f, ['title', 'spec', 'priority']))
      : v.features,
  });
  const plan = decode(ModelPlan, keep((value ?? {}) as { milestone?: unknown; features?: unknown }));
  return {
    milestone: {
      title: plan.milestone.title.replace(CONTROL, ' '),
      description: plan.milestone.description ?? '',
    },
    features: plan.features.slice(0, maxFeatures).map((f) => ({
      title: f.title.replace(CONTROL, ' '),
      spec: f.spec ?? '',
      priority: f.priority ?? 'medium',
    })),
  };
}

function pick(value: unknown, keys: string[]): unknown {
  if (!value || typeof value !== 'object') {
    return value;
  }
  return Object.fromEntries(keys.filter((k) => k in value).map((k) => [k, (value as Record<string, unknown>)[k]]));
}

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What a contract field's JSDoc says: its text and its `@example` (JSON). */
export interface FieldDoc {
  description?: string;
  example?: unknown;
}

/** Class name → field name (or `''` for the class itself) → its JSDoc. */
export type ContractDocs = Map<string, Map<string, FieldDoc>>;

function parseComment(lines: string[]): FieldDoc {
  const text = lines
    .join('\n')
    .replace(/^\s*\/\*\*/, '')
    .replace(/\*\/\s*$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, '').trim());
  const description: string[] = [];
  const doc: FieldDoc = {};
  for (const line of text) {
    const example = /^@example\s+(.*)$/.exec(line)?.[1];
    if (example !== undefined) {
      try {
        doc.example = JSON.parse(example) as unknown;
      } catch {
        doc.example = example;
      }
    } else if (line && !line.startsWith('@')) {
      description.push(line);
    }
  }
  if (description.length) {
    doc.description = description.join(' ');
  }
  return doc;
}

/**
 * Reads the JSDoc of the contract classes from the contracts' compiled declarations
 * (tsc keeps the comments there, in a regular layout): the comments written for the IDE
 * are the descriptions and examples of the OpenAPI document.
 */
export function readContractDocs(dir = dirname(require.resolve('@waggle/contracts'))): ContractDocs {
  const docs: ContractDocs = new Map();
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.d.ts'))
    .sort()) {
    let comment: string[] | undefined;
    let open = false;
    let fields: Map<string, FieldDoc> | undefined;
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (open) {
        comment!.push(line);
        if (line.includes('*/')) {
          open = false;
        }
        continue;
      }
      if (line.trimStart().startsWith('/**')) {
        comment = [line];
        open = !line.includes('*/');
        continue;
      }
      const declared = /^export declare class (\w+)/.exec(line)?.[1];
      if (declared) {
        fields = new Map();
        docs.set(declared, fields);
        if (comment) {
          fields.set('', parseComment(comment));
        }
      } else if (fields && /^}/.test(line)) {
        fields = undefined;
      } else if (fields && comment) {
        const member = /^ {4}(?:readonly )?(\w+)[?!]?:/.exec(line)?.[1];
        if (member) {
          fields.set(member, parseComment(comment));
        }
      }
      comment = undefined;
    }
  }
  return docs;
}

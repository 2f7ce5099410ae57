import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiQuery } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { MetadataStorage } from 'class-transformer/types/MetadataStorage';
import { ValidationTypes } from 'class-validator';
import { targetConstructorToSchema } from 'class-validator-jsonschema';

import * as contracts from '@waggle/contracts';
import { NULLABLE, SECRET_REFS_VALIDATOR } from '@waggle/contracts';

import type { ContractDocs } from './contract-docs';
import { readContractDocs } from './contract-docs';

// class-transformer keeps its `@Type` metadata here; the schema generator follows it to nested classes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as {
  defaultMetadataStorage: MetadataStorage;
};

const PREFIX = '#/components/schemas/';
type ContractClass = abstract new (...args: never[]) => object;
// @nestjs/swagger exports its schema types only through the document's shape.
type Schema = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];
type ReferenceObject = Extract<Schema, { $ref: string }>;
type SchemaObject = Exclude<Schema, ReferenceObject>;

/** Every class libs/contracts exports, by name: the classes a schema may name. */
const contractClasses = new Map<string, ContractClass>(
  Object.entries(contracts as Record<string, unknown>).filter(
    (entry): entry is [string, ContractClass] => typeof entry[1] === 'function' && /^[A-Z]/.test(entry[0]),
  ),
);

let docs: ContractDocs | undefined;
const schemas = new Map<string, SchemaObject>();

function docOf(type: ContractClass, field: string) {
  docs ??= readContractDocs();
  // A subclass inherits its parent's fields, and their comments.
  for (let t: unknown = type; typeof t === 'function' && t.name; t = Object.getPrototypeOf(t)) {
    const doc = docs.get(t.name)?.get(field);
    if (doc) {
      return doc;
    }
  }
  return undefined;
}

/**
 * The JSON schema of a contract class, generated from the same class-validator decorators
 * that validate it (class-validator-jsonschema), with `Nullable()` fields marked nullable
 * and the fields' JSDoc as descriptions and examples.
 */
export function contractSchema(type: ContractClass): SchemaObject {
  const cached = schemas.get(type.name);
  if (cached) {
    return cached;
  }
  if (contractClasses.get(type.name) !== type) {
    throw new Error(`${type.name} is not a class exported by @waggle/contracts`);
  }
  const generated = targetConstructorToSchema(type, {
    refPointerPrefix: PREFIX,
    classTransformerMetadataStorage: defaultMetadataStorage,
    additionalConverters: {
      [ValidationTypes.CONDITIONAL_VALIDATION]: (meta) => (meta.context === NULLABLE ? { nullable: true } : {}),
      // Custom validators: a task's secrets are a map of environment variable → secret name.
      [ValidationTypes.CUSTOM_VALIDATION]: (meta) =>
        meta.name === SECRET_REFS_VALIDATOR ? { type: 'object', additionalProperties: { type: 'string' } } : {},
    },
  }) as SchemaObject;
  const required = new Set(generated.required ?? []);
  const properties: Record<string, Schema> = {};
  for (const [name, raw] of Object.entries(generated.properties ?? {})) {
    const { nullable, ...rest } = raw as SchemaObject;
    const doc = docOf(type, name);
    const extra: SchemaObject = {
      ...(nullable ? { nullable: true } : {}),
      ...(doc?.description ? { description: doc.description } : {}),
      ...(doc?.example !== undefined ? { example: doc.example } : {}),
    };
    if (nullable) {
      required.add(name);
    }
    // OpenAPI 3.0 ignores what stands beside a $ref: a nullable or described reference is an allOf.
    properties[name] =
      '$ref' in rest && Object.keys(extra).length ? { allOf: [rest], ...extra } : { ...rest, ...extra };
  }
  const description = docOf(type, '')?.description;
  const schema: SchemaObject = {
    type: 'object',
    ...(description ? { description } : {}),
    properties,
    ...(required.size ? { required: Object.keys(properties).filter((name) => required.has(name)) } : {}),
  };
  schemas.set(type.name, schema);
  return schema;
}

export const schemaRef = (type: ContractClass): ReferenceObject => ({ $ref: `${PREFIX}${type.name}` });

/** A page of `type` (keyset pagination, see PageQuery). */
export const pageOf = (type: ContractClass): SchemaObject => ({
  type: 'object',
  properties: {
    items: { type: 'array', items: schemaRef(type) },
    nextCursor: { type: 'string', description: 'Pass as `cursor` to get the next page; absent on the last page' },
  },
  required: ['items'],
});

/** The request body is this contract class (validated by the global ValidationPipe). */
export const ApiBodyOf = (type: ContractClass, description?: string) =>
  ApiBody({ schema: schemaRef(type), ...(description ? { description } : {}) });

/** Each field of this contract class is a query parameter. */
export const ApiQueryOf = (type: ContractClass) => {
  const schema = contractSchema(type);
  const required = new Set(schema.required ?? []);
  return applyDecorators(
    ...Object.entries(schema.properties ?? {}).map(([name, property]) => {
      const { description, ...rest } = property as SchemaObject;
      return ApiQuery({ name, required: required.has(name), schema: rest, ...(description ? { description } : {}) });
    }),
  );
};

function refsIn(value: unknown, out: Set<string>) {
  if (Array.isArray(value)) {
    for (const item of value) {
      refsIn(item, out);
    }
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string' && item.startsWith(PREFIX)) {
        out.add(item.slice(PREFIX.length));
      } else {
        refsIn(item, out);
      }
    }
  }
}

/**
 * Puts the schema of every contract class the document refers to (and those they refer to)
 * into its components, in name order, so the document is stable.
 */
export function addContractSchemas(document: OpenAPIObject): OpenAPIObject {
  const components = (document.components ??= {});
  const existing = (components.schemas ??= {});
  const wanted = new Set<string>();
  refsIn(document.paths, wanted);
  const added: Record<string, SchemaObject> = {};
  for (const name of wanted) {
    const type = contractClasses.get(name);
    if (!type) {
      if (!existing[name]) {
        throw new Error(`the OpenAPI document refers to ${name}, which is neither a contract class nor a schema`);
      }
      continue;
    }
    added[name] = contractSchema(type);
    refsIn(added[name], wanted);
  }
  const merged: Record<string, Schema> = { ...existing, ...added };
  components.schemas = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return document;
}

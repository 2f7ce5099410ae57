import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import type {
  CheckSecretRefsRequest,
  CreateSecretRequest,
  ListSecretAuditRequest,
  ListSecretsRequest,
  Page,
  ResolvedSecret,
  ResolveSecretRequest,
  SealedReveal,
  SealedValue,
  SecretActor,
  SecretAuditView,
  SecretRefRequest,
  SecretRefsCheck,
  SecretView,
  UpdateSecretRequest,
} from '@waggle/contracts';
import {
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  ErrorCode,
  isTimeCursor,
  MAX_SECRET_VALUE_LENGTH,
  WaggleError,
} from '@waggle/contracts';

import { AuditRepository } from '../audit/audit.repository';
import { VaultMetrics } from '../infrastructure/vault.metrics';
import { IntegrityError, newKey, open, seal, valueAssociatedData } from '../keys/envelope';
import { Keyring, sealTo } from '../keys/keyring';
import type { EncryptedValue, SecretRow } from './secret.repository';
import { SecretRepository } from './secret.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function scopeOf(project: string | null | undefined): string {
  return project ? `project:${project}` : 'global';
}

export function secretView(row: SecretRow): SecretView {
  return {
    id: row.id,
    name: row.name,
    category: row.category,
    scope: scopeOf(row.project),
    project: row.project || null,
    machineLabel: row.machine_label,
    description: row.description,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    lastAccessedAt: row.last_accessed_at?.toISOString() ?? null,
    accessCount: row.access_count,
  };
}

/** Attempts at a write whose key version a concurrent rotation retired under it. */
const WRITE_ATTEMPTS = 3;

/**
 * Secrets: each value under its own data key (AES-256-GCM, fresh nonce, the secret's id,
 * name and scope as associated data), the data key wrapped under the active key version.
 * Values leave only through `reveal` (an admin, audited) and `decrypt` (sealed to a machine).
 */
@Injectable()
export class SecretsService {
  constructor(
    private readonly secrets: SecretRepository,
    private readonly audit: AuditRepository,
    private readonly keyring: Keyring,
    private readonly metrics: VaultMetrics,
  ) {}

  private async encrypt(
    row: { id: string; name: string; project: string; machine_label: string | null },
    value: string,
  ): Promise<EncryptedValue> {
    const dataKey = newKey();
    try {
      const sealed = seal(
        dataKey,
        Buffer.from(value, 'utf8'),
        valueAssociatedData(row.id, row.name, scopeOf(row.project), row.machine_label),
      );
      const { version, wrapped } = await this.keyring.wrapDataKey(row.id, dataKey);
      return { keyVersion: version, wrappedKey: wrapped, ...sealed };
    } finally {
      dataKey.fill(0);
    }
  }

  /** The plaintext of a stored secret; an altered row is refused (INTEGRITY_FAILED), audited, never decrypted. */
  async decrypt(row: SecretRow, actor: SecretActor): Promise<string> {
    try {
      const dataKey = await this.keyring.unwrapDataKey(row.id, row.key_version, row.wrapped_key);
      try {
        return open(
          dataKey,
          { nonce: row.nonce, ciphertext: row.ciphertext, tag: row.tag },
          valueAssociatedData(row.id, row.name, scopeOf(row.project), row.machine_label),
          `secret ${row.id}`,
        ).toString('utf8');
      } finally {
        dataKey.fill(0);
      }
    } catch (error) {
      if (!(error instanceof IntegrityError)) {
        throw error;
      }
      this.metrics.integrityFailures.inc();
      await this.audit.record([
        { action: 'integrity_failure', secretId: row.id, secretName: row.name, scope: scopeOf(row.project), actor },
      ]);
      throw new WaggleError(
        ErrorCode.IntegrityFailed,
        `secret "${row.name}" (${scopeOf(row.project)}) failed its integrity check: its stored ciphertext, tag, nonce or associated data was altered, so it was not decrypted; set its value again`,
        { secret: row.id },
      );
    }
  }

  /** A secret by id, or by name in `project` ('' or absent: global). */
  async find(ref: string, project: string | undefined): Promise<SecretRow> {
    const row = UUID.test(ref) ? await this.secrets.findById(ref) : await this.secrets.findByName(project ?? '', ref);
    if (!row) {
      throw WaggleError.notFound('secret', project ? `${project}/${ref}` : ref);
    }
    return row;
  }

  /** A name as a task names it: in the task's project first, else global. */
  async resolve(name: string, project: string | null | undefined): Promise<SecretRow | null> {
    return (project ? await this.secrets.findByName(project, name) : null) ?? this.secrets.findByName('', name);
  }

  async create(req: CreateSecretRequest): Promise<SecretView> {
    const base = {
      id: randomUUID(),
      name: req.name,
      project: req.project ?? '',
      machine_label: req.machineLabel ?? null,
    };
    const plaintext = this.incoming(req.sealedValue);
    for (let attempt = 1; ; attempt++) {
      const value = await this.encrypt(base, plaintext);
      let row: SecretRow | null;
      try {
        row = await this.secrets.insert(
          { ...base, category: req.category ?? 'general', description: req.description ?? null },
          value,
        );
      } catch (error) {
        if ((error as { code?: string }).code === '23505') {
          throw new WaggleError(
            ErrorCode.Conflict,
            `a secret named "${req.name}" already exists in ${scopeOf(req.project)}; change its value with PATCH /api/secrets/{id}`,
            { name: req.name, scope: scopeOf(req.project) },
          );
        }
        throw error;
      }
      if (row) {
        await this.audit.record([
          { action: 'create', secretId: row.id, secretName: row.name, scope: scopeOf(row.project), actor: req.actor },
        ]);
        return secretView(row);
      }
      await this.retryAfterRotation(attempt);
    }
  }

  private async retryAfterRotation(attempt: number): Promise<void> {
    if (attempt >= WRITE_ATTEMPTS) {
      throw new WaggleError(ErrorCode.Unavailable, 'the vault key is rotating; try again', { retryAfterSeconds: 1 });
    }
    await this.keyring.reload();
  }

  async update(req: UpdateSecretRequest): Promise<SecretView> {
    const existing = await this.find(req.ref, req.project);
    const plaintext = req.sealedValue ? this.incoming(req.sealedValue) : undefined;
    for (let attempt = 1; ; attempt++) {
      const value = plaintext === undefined ? undefined : await this.encrypt(existing, plaintext);
      const row = await this.secrets.update(
        existing.id,
        { category: req.category, description: req.description },
        value,
      );
      if (row) {
        await this.audit.record([
          {
            action: 'update',
            secretId: row.id,
            secretName: row.name,
            scope: scopeOf(row.project),
            actor: req.actor,
            detail: {
              value: plaintext !== undefined,
              category: req.category,
              description: req.description !== undefined,
            },
          },
        ]);
        return secretView(row);
      }
      if (!value) {
        throw WaggleError.notFound('secret', req.ref);
      }
      await this.retryAfterRotation(attempt);
    }
  }

  async get(req: SecretRefRequest): Promise<SecretView> {
    return secretView(await this.find(req.ref, req.project));
  }

  async delete(req: SecretRefRequest): Promise<SecretView> {
    const existing = await this.find(req.ref, req.project);
    const row = await this.secrets.delete(existing.id);
    if (!row) {
      throw WaggleError.notFound('secret', req.ref);
    }
    await this.audit.record([
      { action: 'delete', secretId: row.id, secretName: row.name, scope: scopeOf(row.project), actor: req.actor },
    ]);
    return secretView(row);
  }

  /** A value sealed to the transport key by the gateway, within the limits of a value. */
  private incoming(sealed: SealedValue): string {
    const value = this.keyring.openIncoming(sealed);
    if (!value || value.length > MAX_SECRET_VALUE_LENGTH) {
      throw WaggleError.invalid(`a value must be 1-${MAX_SECRET_VALUE_LENGTH} characters`, [
        { field: 'value', errors: ['length'] },
      ]);
    }
    return value;
  }

  /** An admin sees the value (sealed to the gateway's one-time key): logged in the audit trail and counted first. */
  async reveal(req: SecretRefRequest): Promise<SealedReveal> {
    if (!req.revealTo) {
      throw WaggleError.invalid('a reveal names the key to seal the value to', [
        { field: 'revealTo', errors: ['required'] },
      ]);
    }
    const revealTo = req.revealTo;
    const row = await this.find(req.ref, req.project);
    const value = await this.decrypt(row, req.actor);
    await this.secrets.touch([row.id]);
    await this.audit.record([
      { action: 'reveal', secretId: row.id, secretName: row.name, scope: scopeOf(row.project), actor: req.actor },
    ]);
    this.metrics.accesses.inc({ kind: 'reveal' });
    const fresh = (await this.secrets.findById(row.id)) ?? row;
    return { ...secretView(fresh), sealedValue: sealTo(revealTo, value) };
  }

  async list(req: ListSecretsRequest): Promise<Page<SecretView>> {
    const limit = req.limit ?? DEFAULT_PAGE_SIZE;
    const project = req.project === 'global' ? '' : req.project;
    const rows = await this.secrets.list(
      { project, category: req.category },
      decodeCursor(req.cursor, isTimeCursor),
      limit + 1,
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(secretView),
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : undefined,
    };
  }

  /** One of Waggle's own credentials for a hub service, sealed to its one-time key; audited as that service's use. */
  async resolveForService(req: ResolveSecretRequest): Promise<ResolvedSecret> {
    const actor: SecretActor = { kind: 'system', name: req.service, from: `service:${req.service}` };
    const row = req.project
      ? await this.secrets.findByName(req.project, req.name)
      : await this.secrets.findByName('', req.name);
    if (!row) {
      await this.audit.record([
        {
          action: 'refuse',
          secretName: req.name,
          scope: scopeOf(req.project),
          actor,
          detail: { reason: 'no such secret' },
        },
      ]);
      throw WaggleError.notFound('secret', req.project ? `${req.project}/${req.name}` : req.name);
    }
    const sealed = sealTo(req.sealTo, await this.decrypt(row, actor));
    await this.secrets.touch([row.id]);
    await this.audit.record([
      {
        action: 'use',
        secretId: row.id,
        secretName: row.name,
        scope: scopeOf(row.project),
        actor,
        detail: { service: req.service },
      },
    ]);
    this.metrics.accesses.inc({ kind: 'service' });
    return { name: row.name, scope: scopeOf(row.project), ...sealed };
  }

  /** Counts tasks' uses. */
  touchAll(ids: string[]): Promise<void> {
    return this.secrets.touch(ids);
  }

  /** At a task's create: every secret it names is in its reach (its project's, or global). */
  async check(req: CheckSecretRefsRequest): Promise<SecretRefsCheck> {
    const resolved: SecretRefsCheck['resolved'] = {};
    for (const [env, name] of Object.entries(req.refs)) {
      const row = await this.resolve(name, req.project);
      if (!row) {
        throw new WaggleError(
          ErrorCode.NotFound,
          `secret "${name}" (for ${env}) does not exist in ${req.project ? `project ${req.project} or ` : ''}global scope`,
          { env, secret: name },
        );
      }
      resolved[env] = { id: row.id, scope: scopeOf(row.project), machineLabel: row.machine_label };
    }
    return { resolved };
  }

  async auditTrail(req: ListSecretAuditRequest): Promise<Page<SecretAuditView>> {
    const limit = req.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.audit.list(
      { secretId: req.secretId, action: req.action },
      decodeCursor(req.cursor, isTimeCursor),
      limit + 1,
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map((r) => r.view),
      nextCursor: rows.length > limit && last ? encodeCursor(last.cursor) : undefined,
    };
  }
}

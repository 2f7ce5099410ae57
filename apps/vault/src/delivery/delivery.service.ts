import { Injectable } from '@nestjs/common';

import type { OpenSecretsRequest, SealedSecrets, SecretActor } from '@waggle/contracts';
import { ErrorCode, RegistryRpc, TaskRouterRpc, WaggleError } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { AuditRepository } from '../audit/audit.repository';
import type { AuditEntry } from '../audit/audit.repository';
import { VaultMetrics } from '../infrastructure/vault.metrics';
import { sealTo } from '../keys/keyring';
import type { SecretRow } from '../secrets/secret.repository';
import { scopeOf, SecretsService } from '../secrets/secrets.service';

const LIVE_STATES = new Set(['assigned', 'running']);

/**
 * Secrets reach tasks, not people: a machine running an attempt asks for its task's secrets,
 * the vault checks with the task-router that the attempt is that machine's and live, checks
 * each secret's scope again, and seals each value to the machine's curve key. NATS carries
 * only ciphertext that one machine can open.
 */
@Injectable()
export class DeliveryService {
  constructor(
    private readonly secrets: SecretsService,
    private readonly audit: AuditRepository,
    private readonly rpc: RpcClient,
    private readonly metrics: VaultMetrics,
  ) {}

  async open(machineId: string, req: OpenSecretsRequest): Promise<SealedSecrets> {
    const task = await this.rpc.call(TaskRouterRpc.get, { taskId: req.taskId });
    const actor: SecretActor = {
      kind: 'machine',
      name: task.machine?.machineId === machineId ? task.machine.name : machineId,
      from: `machine:${machineId}`,
    };
    const detail = { taskId: req.taskId, attempt: req.attempt };
    if (task.machine?.machineId !== machineId || task.attempt !== req.attempt || !LIVE_STATES.has(task.state)) {
      await this.audit.record([
        { action: 'refuse', actor, detail: { ...detail, reason: "not this machine's live attempt" } },
      ]);
      throw new WaggleError(
        ErrorCode.Forbidden,
        `attempt ${req.attempt} of task ${req.taskId} is not running on this machine: its secrets are not given out`,
      );
    }
    const values: SealedSecrets['values'] = {};
    const used: AuditEntry[] = [];
    const ids: string[] = [];
    // Every secret first: in reach (the task's project, else global) and, if it is kept for
    // machines with a label, this machine has it. Then the values, sealed.
    const rows: { env: string; row: SecretRow }[] = [];
    let labels: string[] | undefined;
    for (const [env, name] of Object.entries(task.secrets ?? {})) {
      const row = await this.secrets.resolve(name, task.project);
      if (!row) {
        await this.audit.record([
          { action: 'refuse', secretName: name, actor, detail: { ...detail, env, reason: 'no such secret in reach' } },
        ]);
        throw new WaggleError(
          ErrorCode.NotFound,
          `secret "${name}" (for ${env}) no longer exists in ${task.project ? `project ${task.project} or ` : ''}global scope`,
          { env, secret: name },
        );
      }
      if (row.machine_label) {
        labels ??= (await this.rpc.call(RegistryRpc.getMachine, { machine: machineId })).labels;
        if (!labels.includes(row.machine_label)) {
          await this.audit.record([
            {
              action: 'refuse',
              secretId: row.id,
              secretName: row.name,
              scope: scopeOf(row.project),
              actor,
              detail: { ...detail, env, reason: `machine lacks label ${row.machine_label}` },
            },
          ]);
          throw new WaggleError(
            ErrorCode.Forbidden,
            `secret "${name}" (for ${env}) is kept for machines labelled ${row.machine_label}; this machine is not`,
            { env, secret: name },
          );
        }
      }
      rows.push({ env, row });
    }
    for (const { env, row } of rows) {
      values[env] = { name: row.name, ...sealTo(req.sealKey, await this.secrets.decrypt(row, actor)) };
      ids.push(row.id);
      used.push({
        action: 'use',
        secretId: row.id,
        secretName: row.name,
        scope: scopeOf(row.project),
        actor,
        detail: { ...detail, env },
      });
    }
    if (ids.length) {
      await this.secrets.touchAll(ids);
      await this.audit.record(used);
      this.metrics.accesses.inc({ kind: 'task' }, ids.length);
    }
    return { values };
  }
}

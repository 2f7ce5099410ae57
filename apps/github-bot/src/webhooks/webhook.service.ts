import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { WebhookDelivery, WebhookReply } from '@waggle/contracts';
import { ErrorCode, WaggleError } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

import { GithubBotMetrics } from '../infrastructure/github-bot.metrics';
import { SecretBox } from '../infrastructure/secret-box';
import type { IssueLike } from '../links/intake.service';
import { IntakeService } from '../links/intake.service';
import { RepoRepository } from '../repos/repo.repository';

const D = '"github"."deliveries"';

/** Whether `signature` (X-Hub-Signature-256) is the HMAC-SHA256 of `body` under `secret`, compared in constant time. */
export function signatureMatches(secret: string, body: string, signature: string | undefined): boolean {
  if (!signature?.startsWith('sha256=')) {
    return false;
  }
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The JSON of a delivery: the body itself (content type application/json), or the `payload`
 * field of a form (application/x-www-form-urlencoded, the default on GitHub's webhook form).
 * GitHub signs the body as sent, so the signature is checked against `body`, not this.
 */
export function webhookJson(body: string): string {
  return body.trimStart().startsWith('{') ? body : (new URLSearchParams(body).get('payload') ?? '');
}

/**
 * Webhooks, as the gateway received them. Nothing is trusted or stored before the signature
 * matches the secret of the repository the payload names. A delivery id seen before is
 * dropped; an `issues` event for a labelled open issue makes its one task.
 */
@Injectable()
export class WebhookService {
  constructor(
    private readonly repos: RepoRepository,
    private readonly intake: IntakeService,
    private readonly dataSource: DataSource,
    private readonly box: SecretBox,
    private readonly metrics: GithubBotMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async receive(delivery: WebhookDelivery): Promise<WebhookReply> {
    let payload: { repository?: { full_name?: unknown }; action?: unknown; issue?: IssueLike };
    try {
      payload = JSON.parse(webhookJson(delivery.body)) as typeof payload;
    } catch {
      return this.reject('the body is neither JSON nor a form with a JSON `payload` field');
    }
    const name = typeof payload.repository?.full_name === 'string' ? payload.repository.full_name : undefined;
    const repo = name ? await this.repos.findByName(name) : null;
    // An unknown repository and a wrong signature get the same answer: which repositories are watched is not told.
    if (!repo || !signatureMatches(this.secretOf(repo.webhook_secret), delivery.body, delivery.signature)) {
      return this.reject('the X-Hub-Signature-256 does not match the secret of a watched repository');
    }
    const [seen] = await this.dataSource.query<{ result: string }[]>(`SELECT "result" FROM ${D} WHERE "id" = $1`, [
      delivery.deliveryId,
    ]);
    if (seen) {
      this.metrics.webhooks.inc({ result: 'duplicate' });
      return { accepted: false, result: `delivery ${delivery.deliveryId} was handled already (${seen.result})` };
    }
    let result: string;
    if (delivery.event === 'ping') {
      result = 'pong';
    } else if (
      delivery.event === 'issues' &&
      payload.issue &&
      ['opened', 'labeled', 'reopened', 'edited'].includes(String(payload.action))
    ) {
      result = await this.intake.consider(repo, payload.issue);
    } else {
      result = `ignored: ${delivery.event}${typeof payload.action === 'string' ? `.${payload.action}` : ''}`;
    }
    // Stored once handled: a delivery that failed half-way is taken again when GitHub redelivers it.
    await this.dataSource.query(
      `INSERT INTO ${D} ("id", "event", "repo", "result") VALUES ($1, $2, $3, $4) ON CONFLICT ("id") DO NOTHING`,
      [delivery.deliveryId, delivery.event, repo.full_name, result],
    );
    this.metrics.webhooks.inc({ result: result === 'linked' ? 'linked' : 'accepted' });
    this.logger.info(
      { deliveryId: delivery.deliveryId, event: delivery.event, repo: repo.full_name, result },
      'webhook',
    );
    return { accepted: true, result };
  }

  /** The repository's webhook secret; one sealed under another key matches nothing. */
  private secretOf(sealed: string): string {
    try {
      return this.box.open(sealed);
    } catch {
      this.logger.error(
        'a webhook secret does not open with WAGGLE_GITHUB_SECRETS_KEY: watch the repository again with its secret',
      );
      return randomBytes(32).toString('hex');
    }
  }

  private reject(why: string): never {
    this.metrics.webhooks.inc({ result: 'rejected' });
    this.logger.warn({ why }, 'webhook refused');
    throw new WaggleError(ErrorCode.Unauthenticated, why);
  }
}

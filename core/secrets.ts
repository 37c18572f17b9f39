import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sdk } from './sdk';

/** Secrets from Secrets Manager, cached for a few minutes per warm Lambda so rotation is picked up. */
export class SecretCache {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(secretId: string): Promise<string> {
    const hit = this.cache.get(secretId);
    if (hit && hit.until > this.now()) return hit.value;
    const out = await this.client.send(new sdk.secretsManager.GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
    this.cache.set(secretId, { value: out.SecretString, until: this.now() + this.ttlMs });
    return out.SecretString;
  }
}

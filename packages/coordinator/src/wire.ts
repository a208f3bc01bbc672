import { AitbcError } from '@aitbc/crypto';
import { type MatchRequirements, matchRequestFromJson } from '@aitbc/pool';
import type { Job, JobSubmission, JsonValue } from './job.js';

/**
 * The JSON form of a job (snake_case, amounts as decimal strings).
 *
 * @example
 * ```ts
 * import { jobToJson } from '@aitbc/coordinator';
 * reply.send(jobToJson(job)); // { id, state, max_price: '5000', … }
 * ```
 */
export function jobToJson(job: Job): Record<string, unknown> {
  const r = job.requirements;
  return {
    job_id: job.id,
    client: job.client,
    kind: job.kind,
    input: job.input,
    requirements: requirementsToJson(r),
    max_price: job.maxPrice.toString(),
    state: job.state,
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    miner_id: job.minerId ?? null,
    lease_expires_at: job.leaseExpiresAt ?? null,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    expires_at: job.expiresAt,
    error: job.error ?? null,
    receipt_id: job.receiptId ?? null,
    market:
      job.market === undefined
        ? null
        : {
            bid_id: job.market.bidId,
            match_id: job.market.matchId,
            offer_id: job.market.offerId,
            miner_id: job.market.minerId,
            price_per_unit: job.market.pricePerUnit.toString(),
          },
    history: job.history.map((e) => ({
      state: e.state,
      at: e.at,
      miner_id: e.minerId ?? null,
      reason: e.reason ?? null,
    })),
  };
}

function bad(field: string, expected: string): AitbcError {
  return new AitbcError('COORD_BAD_REQUEST', `${field} must be ${expected}`, { details: { field } });
}

/**
 * Parses `POST /v1/jobs`: `{kind, input, requirements?, max_price, ttl_ms?, bid_id?}`.
 * @throws AitbcError `COORD_BAD_REQUEST` (or `POOL_BAD_REQUEST` for a bad requirement) naming the field.
 *
 * @example
 * ```ts
 * import { jobSubmissionFromJson } from '@aitbc/coordinator';
 * const submission = jobSubmissionFromJson({ kind: 'wasm', input: { n: 1 }, max_price: '5000', ttl_ms: 60_000 });
 * const job = await engine.submit(clientAddress, submission);
 * ```
 */
export function jobSubmissionFromJson(body: unknown): JobSubmission {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body', 'a JSON object');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['kind', 'input', 'requirements', 'max_price', 'ttl_ms', 'bid_id'].includes(k)) {
      throw new AitbcError('COORD_BAD_REQUEST', `unknown field body.${k}`, { details: { field: `body.${k}` } });
    }
  }
  if (typeof o.kind !== 'string') throw bad('body.kind', 'a string');
  if (!('input' in o)) throw bad('body.input', 'present (any JSON value)');
  if (typeof o.max_price !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(o.max_price))
    throw bad('body.max_price', 'a decimal string of base units');
  let requirements: Omit<MatchRequirements, 'jobKind'> | undefined;
  if (o.requirements !== undefined) {
    if (typeof o.requirements === 'object' && o.requirements !== null && 'job_kind' in o.requirements) {
      throw bad('body.requirements.job_kind', 'absent (the job kind is body.kind)');
    }
    const { jobKind: _ignored, ...rest } = matchRequestFromJson({ requirements: o.requirements }).requirements;
    requirements = rest;
  }
  if (o.ttl_ms !== undefined && (typeof o.ttl_ms !== 'number' || !Number.isSafeInteger(o.ttl_ms)))
    throw bad('body.ttl_ms', 'an integer (ms)');
  if (o.bid_id !== undefined && (typeof o.bid_id !== 'string' || !/^bid_[0-9a-f]{28}$/.test(o.bid_id)))
    throw bad('body.bid_id', 'a bid id (bid_…)');
  return {
    kind: o.kind,
    input: o.input as JsonValue,
    maxPrice: BigInt(o.max_price),
    ...(requirements !== undefined ? { requirements } : {}),
    ...(o.ttl_ms !== undefined ? { ttlMs: o.ttl_ms as number } : {}),
    ...(o.bid_id !== undefined ? { bidId: o.bid_id as string } : {}),
  };
}

/**
 * Miner requirements in wire form (snake_case, prices as decimal strings): shared by jobs and bids.
 * @internal
 */
export function requirementsToJson(r: Omit<MatchRequirements, 'jobKind'>): Record<string, unknown> {
  return {
    ...(r.minVramGb !== undefined ? { min_vram_gb: r.minVramGb } : {}),
    ...(r.minGpus !== undefined ? { min_gpus: r.minGpus } : {}),
    ...(r.minRamGb !== undefined ? { min_ram_gb: r.minRamGb } : {}),
    ...(r.minCpuCores !== undefined ? { min_cpu_cores: r.minCpuCores } : {}),
    ...(r.models !== undefined ? { models: r.models } : {}),
    ...(r.regions !== undefined ? { regions: r.regions } : {}),
    ...(r.maxPricePerUnit !== undefined ? { max_price_per_unit: r.maxPricePerUnit.toString() } : {}),
  };
}

import { AitbcError, addressFromPublicKey, bytesToHex, hexToBytes, isAitbcError, parseAddress } from '@aitbc/crypto';
import type {
  Heartbeat,
  MatchRequest,
  MatchRequirements,
  MatchResult,
  MinerCapabilities,
  MinerRecord,
  MinerRegistration,
} from './types.js';
import { WireReader } from './wireReader.js';

/**
 * Limits on registrations and queries (documented in the README).
 *
 * @example
 * ```ts
 * import { WIRE_LIMITS } from '@aitbc/pool';
 * const request = { requirements: { job_kind: 'wasm' }, top_k: Math.min(wanted, WIRE_LIMITS.maxTopK) };
 * ```
 */
export const WIRE_LIMITS = Object.freeze({
  maxGpus: 64,
  maxModels: 256,
  maxJobKinds: 32,
  maxListItems: 64,
  maxTopK: 100,
});

const ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
const LABEL_RE = /^[\x21-\x7e]{1,128}$/; // printable ASCII, no spaces
const TEXT_RE = /^\P{Cc}{1,128}$/u; // no control characters
const HEX_KEY_RE = /^(0x)?[0-9a-fA-F]{64}$/;

function capabilitiesFromJson(r: WireReader): MinerCapabilities {
  r.only(['gpus', 'cpu_cores', 'ram_gb', 'models', 'job_kinds', 'region']);
  const gpus = r.has('gpus')
    ? r.objects('gpus', WIRE_LIMITS.maxGpus).map((g) => {
        g.only(['model', 'vram_gb']);
        return { model: g.string('model', TEXT_RE, 'a GPU model name'), vramGb: g.number('vram_gb', 0, 16_384) };
      })
    : [];
  return {
    gpus,
    cpuCores: r.has('cpu_cores') ? r.int('cpu_cores', 0, 65_536) : 0,
    ramGb: r.has('ram_gb') ? r.number('ram_gb', 0, 1_048_576) : 0,
    models: r.has('models') ? r.strings('models', LABEL_RE, WIRE_LIMITS.maxModels, 'model names') : [],
    jobKinds: r.strings('job_kinds', LABEL_RE, WIRE_LIMITS.maxJobKinds, 'job kinds'),
    region: r.has('region') ? r.string('region', LABEL_RE, 'a region label') : 'unknown',
  };
}

/**
 * Parses a registration body: `{miner_id, address, public_key (hex), capabilities:{gpus:[{model,
 * vram_gb}], cpu_cores, ram_gb, models, job_kinds, region}, price_per_unit (decimal string),
 * max_concurrency}`. The address must be the one of the public key.
 * @throws AitbcError `POOL_BAD_REQUEST` naming the field.
 *
 * @example
 * ```ts
 * import { minerRegistrationFromJson } from '@aitbc/pool';
 * const registration = minerRegistrationFromJson({ miner_id: 'gpu-box-1', address, public_key: publicKeyHex,
 *   capabilities: { gpus: [{ model: 'A100', vram_gb: 80 }], job_kinds: ['wasm'] }, price_per_unit: '250', max_concurrency: 2 });
 * ```
 */
export function minerRegistrationFromJson(body: unknown): MinerRegistration {
  const r = new WireReader(body).only([
    'miner_id',
    'address',
    'public_key',
    'capabilities',
    'price_per_unit',
    'max_concurrency',
  ]);
  const id = r.string('miner_id', ID_RE, '1–64 characters of [A-Za-z0-9._:-]');
  const publicKey = hexToBytes(r.string('public_key', HEX_KEY_RE, 'a 32-byte Ed25519 public key in hex'), 32);
  const address = r.string('address', /^ait1[a-z0-9]{6,90}$/, 'an ait1… address');
  try {
    parseAddress(address);
  } catch (e) {
    throw new AitbcError(
      'POOL_BAD_REQUEST',
      `body.address is invalid: ${isAitbcError(e) ? e.message : 'bad address'}`,
      {
        details: { field: 'body.address' },
      },
    );
  }
  if (addressFromPublicKey(publicKey) !== address) {
    throw new AitbcError('POOL_BAD_REQUEST', 'body.address is not the address of body.public_key', {
      details: { field: 'body.address' },
    });
  }
  return {
    id,
    address,
    publicKey,
    capabilities: capabilitiesFromJson(r.object('capabilities')),
    pricePerUnit: r.amount('price_per_unit'),
    maxConcurrency: r.int('max_concurrency', 1, 1024),
  };
}

/**
 * Parses a heartbeat body `{queue_length?, active_jobs?, latency_ms?, utilization?}`.
 *
 * @example
 * ```ts
 * import { heartbeatFromJson } from '@aitbc/pool';
 * hub.registry.heartbeat(minerId, heartbeatFromJson({ active_jobs: 1, latency_ms: 40, utilization: 0.5 }));
 * ```
 */
export function heartbeatFromJson(body: unknown): Heartbeat {
  const r = new WireReader(body ?? {}).only(['queue_length', 'active_jobs', 'latency_ms', 'utilization']);
  const hb: { -readonly [K in keyof Heartbeat]: Heartbeat[K] } = {};
  if (r.has('queue_length')) hb.queueLength = r.int('queue_length', 0, 1_000_000);
  if (r.has('active_jobs')) hb.activeJobs = r.int('active_jobs', 0, 1_000_000);
  if (r.has('latency_ms')) hb.latencyMs = r.number('latency_ms', 0, 3_600_000);
  if (r.has('utilization')) hb.utilization = r.number('utilization', 0, 1);
  return hb;
}

/**
 * Parses `{requirements:{job_kind?, min_vram_gb?, min_gpus?, min_ram_gb?, min_cpu_cores?, models?,
 * regions?, max_price_per_unit?}, hints?:{region?, exclude_miner_ids?}, top_k?}`.
 *
 * @example
 * ```ts
 * import { matchRequestFromJson } from '@aitbc/pool';
 * const request = matchRequestFromJson({ requirements: { job_kind: 'llm.generate', min_vram_gb: 40 }, hints: { region: 'eu-west' }, top_k: 3 });
 * const result = hub.match(request);
 * ```
 */
export function matchRequestFromJson(body: unknown): MatchRequest {
  const r = new WireReader(body).only(['requirements', 'hints', 'top_k']);
  const q = (r.has('requirements') ? r.object('requirements') : new WireReader({}, 'body.requirements')).only([
    'job_kind',
    'min_vram_gb',
    'min_gpus',
    'min_ram_gb',
    'min_cpu_cores',
    'models',
    'regions',
    'max_price_per_unit',
  ]);
  const requirements: { -readonly [K in keyof MatchRequirements]: MatchRequirements[K] } = {};
  if (q.has('job_kind')) requirements.jobKind = q.string('job_kind', LABEL_RE, 'a job kind');
  if (q.has('min_vram_gb')) requirements.minVramGb = q.number('min_vram_gb', 0, 16_384);
  if (q.has('min_gpus')) requirements.minGpus = q.int('min_gpus', 0, 64);
  if (q.has('min_ram_gb')) requirements.minRamGb = q.number('min_ram_gb', 0, 1_048_576);
  if (q.has('min_cpu_cores')) requirements.minCpuCores = q.int('min_cpu_cores', 0, 65_536);
  if (q.has('models')) requirements.models = q.strings('models', LABEL_RE, WIRE_LIMITS.maxListItems, 'model names');
  if (q.has('regions')) requirements.regions = q.strings('regions', LABEL_RE, WIRE_LIMITS.maxListItems, 'regions');
  if (q.has('max_price_per_unit')) requirements.maxPricePerUnit = q.amount('max_price_per_unit');
  let hints: MatchRequest['hints'];
  if (r.has('hints')) {
    const h = r.object('hints').only(['region', 'exclude_miner_ids']);
    hints = {
      ...(h.has('region') ? { region: h.string('region', LABEL_RE, 'a region label') } : {}),
      ...(h.has('exclude_miner_ids')
        ? { excludeMinerIds: h.strings('exclude_miner_ids', ID_RE, 1024, 'miner ids') }
        : {}),
    };
  }
  const topK = r.has('top_k') ? r.int('top_k', 1, WIRE_LIMITS.maxTopK) : 5;
  return hints === undefined ? { requirements, topK } : { requirements, hints, topK };
}

/**
 * JSON form of a miner record (snake_case, amounts as decimal strings, key as hex).
 *
 * @example
 * ```ts
 * import { minerRecordToJson } from '@aitbc/pool';
 * const items = hub.registry.list().map(minerRecordToJson); // snake_case, price as decimal string
 * ```
 */
export function minerRecordToJson(m: MinerRecord): Record<string, unknown> {
  return {
    miner_id: m.id,
    address: m.address,
    public_key: bytesToHex(m.publicKey),
    capabilities: {
      gpus: m.capabilities.gpus.map((g) => ({ model: g.model, vram_gb: g.vramGb })),
      cpu_cores: m.capabilities.cpuCores,
      ram_gb: m.capabilities.ramGb,
      models: m.capabilities.models,
      job_kinds: m.capabilities.jobKinds,
      region: m.capabilities.region,
    },
    price_per_unit: m.pricePerUnit.toString(),
    max_concurrency: m.maxConcurrency,
    status: {
      online: m.status.online,
      last_heartbeat_at: m.status.lastHeartbeatAt,
      queue_length: m.status.queueLength,
      active_jobs: m.status.activeJobs,
      latency_ms: m.status.latencyMs,
      utilization: m.status.utilization,
    },
    stats: { completed: m.stats.completed, failed: m.stats.failed },
    trust: m.trust,
    registered_at: m.registeredAt,
  };
}

/**
 * JSON form of a match result.
 *
 * @example
 * ```ts
 * import { matchResultToJson } from '@aitbc/pool';
 * reply.send(matchResultToJson(hub.match(request))); // { candidates: [...], eligible, online }
 * ```
 */
export function matchResultToJson(result: MatchResult): Record<string, unknown> {
  return {
    candidates: result.candidates.map((c) => ({
      miner_id: c.minerId,
      address: c.address,
      score: c.score,
      price_per_unit: c.pricePerUnit.toString(),
      explanation: Object.fromEntries(
        Object.entries(c.terms).map(([name, t]) => [
          name,
          { value: t.value, weight: t.weight, contribution: t.contribution, reason: t.reason },
        ]),
      ),
    })),
    eligible: result.eligible,
    online: result.online,
  };
}

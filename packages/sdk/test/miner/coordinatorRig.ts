/**
 * A real coordinator for the miner-agent tests: job engine + pool hub in-process, HTTP on
 * 127.0.0.1:0, API keys for one client and a few miners. Clients talk to it over HTTP like any client.
 */
import { MemoryKVStore } from '@aitbc/chain-core';
import { type CoordinatorServer, createCoordinatorServer, createReceiptHandler, JobEngine } from '@aitbc/coordinator';
import { addressFromPublicKey, generateKeyPair, type KeyPair } from '@aitbc/crypto';
import { createPoolHub, hashApiKey, type PoolHub } from '@aitbc/pool';

export const CHAIN_ID = 'aitbc-devnet';

/** One miner identity the rig has an API key for. */
export interface RigMiner {
  readonly id: string;
  readonly apiKey: string;
  readonly keys: KeyPair;
}

/** A job as the client API returns it (the fields the tests read). */
export interface ClientJob {
  job_id: string;
  state: string;
  miner_id: string | null;
  error: string | null;
  receipt_id: string | null;
  max_price: string;
  history: { state: string; miner_id: string | null; reason: string | null }[];
}

/** The running rig. */
export interface CoordinatorRig {
  readonly url: string;
  readonly engine: JobEngine;
  readonly hub: PoolHub;
  readonly coordinator: KeyPair;
  readonly clientAddress: string;
  readonly miners: readonly RigMiner[];
  /** A client call over HTTP: resolves `{status, json, text}`. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read response fields directly
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }>;
  /** Submits a job as the client; resolves the job id. */
  submit(kind: string, input: unknown, maxPrice?: string): Promise<string>;
  job(jobId: string): Promise<ClientJob>;
  stop(): Promise<void>;
}

/** Starts a coordinator with `minerCount` miner keys (`miner-0`, `miner-1`...). */
export async function startCoordinatorRig(
  options: { minerCount?: number; leaseMs?: number; rateLimitPerMinute?: number } = {},
): Promise<CoordinatorRig> {
  const coordinator = generateKeyPair();
  const client = generateKeyPair();
  const clientAddress = addressFromPublicKey(client.publicKey);
  const miners: RigMiner[] = Array.from({ length: options.minerCount ?? 2 }, (_, i) => ({
    id: `miner-${i}`,
    apiKey: `miner-${i}-key`,
    keys: generateKeyPair(),
  }));
  const hub = createPoolHub();
  const engine = new JobEngine({
    store: new MemoryKVStore(),
    hub,
    receipts: createReceiptHandler({ chainId: CHAIN_ID, coordinatorSeed: coordinator.seed }),
    leaseMs: options.leaseMs ?? 10_000,
    sweepIntervalMs: 100,
  });
  await engine.start();
  const server: CoordinatorServer = createCoordinatorServer({
    engine,
    hub,
    chainId: CHAIN_ID,
    coordinatorId: 'coord-test',
    port: 0,
    logLevel: false,
    ...(options.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: options.rateLimitPerMinute } : {}),
    apiKeys: [
      { role: 'client', subject: clientAddress, hash: hashApiKey('client-key') },
      ...miners.map((m) => ({ role: 'miner', subject: m.id, hash: hashApiKey(m.apiKey) })),
    ],
  });
  const { url } = await server.start();
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { 'x-api-key': 'client-key', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: text.length > 0 ? JSON.parse(text) : undefined };
  };
  return {
    url,
    engine,
    hub,
    coordinator,
    clientAddress,
    miners,
    call,
    async submit(kind, input, maxPrice = '1000000') {
      const res = await call('POST', '/v1/jobs', { kind, input, max_price: maxPrice });
      if (res.status !== 201) throw new Error(`submit failed: ${res.text}`);
      return res.json.job_id as string;
    },
    async job(jobId) {
      return (await call('GET', `/v1/jobs/${jobId}`)).json as ClientJob;
    },
    async stop() {
      await server.stop();
      await engine.stop();
    },
  };
}

import { bytesToBase64url, isAitbcError } from '@aitbc/crypto';
import { parseReceiptJson, validateReceipt, verifyReceipt } from '@aitbc/receipts';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../../test-support/until.js';
import {
  artifactHash,
  createHashRunner,
  createMinerAgent,
  createWasmRunner,
  type JobRunner,
  type MinerAgent,
  type MinerAgentEvents,
  type MinerAgentOptions,
} from '../../src/miner/index.js';
import { CHAIN_ID, type CoordinatorRig, type RigMiner, startCoordinatorRig } from './coordinatorRig.js';
import { gateRunner } from './gateRunner.js';
import { type LlmServer, startLlmServer } from './llmServer.js';
import { INCREMENT_MODULE, LOOP_MODULE, TRAP_MODULE } from './wasmFixtures.js';

const rigs: CoordinatorRig[] = [];
const agents: MinerAgent[] = [];
const llms: LlmServer[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop({ drainTimeoutMs: 0 });
  for (const r of rigs.splice(0)) await r.stop();
  for (const s of llms.splice(0)) await s.stop();
});

async function rig(options?: Parameters<typeof startCoordinatorRig>[0]): Promise<CoordinatorRig> {
  const r = await startCoordinatorRig(options);
  rigs.push(r);
  return r;
}

function agent(r: CoordinatorRig, miner: RigMiner, options: Partial<MinerAgentOptions> = {}): MinerAgent {
  const a = createMinerAgent({
    coordinatorUrl: r.url,
    apiKey: miner.apiKey,
    minerId: miner.id,
    seed: miner.keys.seed,
    chainId: CHAIN_ID,
    pricePerUnit: 10n,
    heartbeatMs: 150,
    pollWaitSeconds: 1,
    probe: { nvidiaSmiPath: false },
    ...options,
  });
  agents.push(a);
  return a;
}

/** Collects an agent's events. */
function record(a: MinerAgent) {
  const events: { [E in keyof MinerAgentEvents]: MinerAgentEvents[E][] } = {
    jobStarted: [],
    jobCompleted: [],
    jobFailed: [],
    error: [],
  };
  for (const name of Object.keys(events) as (keyof MinerAgentEvents)[]) {
    a.on(name, (e) => (events[name] as unknown[]).push(e));
  }
  return events;
}

const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED'];
const finished = (r: CoordinatorRig, jobId: string) =>
  until(async () => {
    const j = await r.job(jobId);
    return TERMINAL.includes(j.state) ? j : undefined;
  });
const b64 = (s: string | Uint8Array) => bytesToBase64url(typeof s === 'string' ? new TextEncoder().encode(s) : s);

/** The one receipt of a completed job, as the client API serves it (exact text). */
async function receiptOf(r: CoordinatorRig, jobId: string) {
  const res = await r.call('GET', `/v1/jobs/${jobId}/receipts`);
  expect(res.json.items).toHaveLength(1);
  return validateReceipt(
    parseReceiptJson(res.text.slice('{"items":['.length, res.text.lastIndexOf('],"next_cursor"'))),
  );
}

describe('miner agent against a real coordinator (HTTP on 127.0.0.1)', () => {
  it('two agents complete client jobs with receipts that verify under pinned keys', async () => {
    const r = await rig();
    const [m0, m1] = r.miners as [RigMiner, RigMiner];
    const a0 = agent(r, m0, { concurrency: 2 });
    const a1 = agent(r, m1);
    const e0 = record(a0);
    const e1 = record(a1);
    const { capabilities } = await a0.start();
    await a1.start();
    expect(capabilities.jobKinds).toEqual(['hash', 'wasm']);
    expect(capabilities.gpus).toEqual([]);
    expect(r.hub.registry.get('miner-0')?.address).toBe(a0.address);

    const ids = [
      await r.submit('hash', { data: b64('hi') }),
      await r.submit('hash', { text: 'abc', iterations: 1000 }),
      await r.submit('wasm', { module: b64(INCREMENT_MODULE), input: b64('HAL') }),
      await r.submit('wasm', { module: b64(INCREMENT_MODULE), input: b64('abc') }),
      await r.submit('hash', { text: 'x' }),
      await r.submit('hash', { text: 'y', iterations: 5 }),
    ];
    const keyOf = new Map(r.miners.map((m) => [m.id, m.keys.publicKey]));
    for (const id of ids) {
      const job = await finished(r, id);
      expect(job.state).toBe('COMPLETED');
      const { output } = (await r.call('GET', `/v1/jobs/${id}/result`)).json;
      const receipt = await receiptOf(r, id);
      const minerKey = keyOf.get(job.miner_id!)!;
      expect(verifyReceipt(receipt, { minerKeys: [minerKey], coordinatorKeys: [r.coordinator.publicKey] }).ok).toBe(
        true,
      );
      // pinned keys matter: the other miner's key does not verify it
      const otherKey = [...keyOf.entries()].find(([mid]) => mid !== job.miner_id)![1];
      expect(verifyReceipt(receipt, { minerKeys: [otherKey], coordinatorKeys: [r.coordinator.publicKey] }).ok).toBe(
        false,
      );
      expect(receipt).toMatchObject({ job_id: id, client: r.clientAddress, chain_id: CHAIN_ID, status: 'completed' });
      expect(receipt.provider).toBe(job.miner_id === 'miner-0' ? a0.address : a1.address);
      expect(receipt.artifact_hash).toBe(artifactHash(output));
      expect(BigInt(receipt.price as string)).toBe(BigInt(String(receipt.units)) * 10n);
    }
    expect((await r.call('GET', `/v1/jobs/${ids[2]}/result`)).json.output).toEqual({ output: b64('IBM'), size: 3 });
    const completed = [...e0.jobCompleted, ...e1.jobCompleted].map((e) => e.jobId).sort();
    expect(completed).toEqual([...ids].sort());
    expect([...e0.jobStarted, ...e1.jobStarted]).toHaveLength(ids.length);
    expect([...e0.jobFailed, ...e1.jobFailed]).toEqual([]);
  });

  it('reports runner errors as failures with their message: FAILED, no receipt', async () => {
    const r = await rig({ minerCount: 1 });
    const boom: JobRunner = {
      kind: 'test.boom',
      async run() {
        throw new Error('the plugin exploded');
      },
    };
    const a = agent(r, r.miners[0]!, {
      runners: [createHashRunner(), createWasmRunner({ timeoutMs: 2_000 }), boom],
      concurrency: 2,
    });
    const events = record(a);
    await a.start();
    const cases: [string, string, unknown, RegExp][] = [
      ['trap', 'wasm', { module: b64(TRAP_MODULE) }, /wasm trap: .*unreachable.*\[MINER_WASM_TRAP\]/],
      ['timeout', 'wasm', { module: b64(LOOP_MODULE), timeout_ms: 300 }, /timeout.*\[MINER_TIMEOUT\]/],
      ['bad input', 'hash', { data: '!!' }, /base64.*\[MINER_BAD_INPUT\]/],
      ['plugin', 'test.boom', {}, /the plugin exploded \[MINER_RUNNER_ERROR\]/],
    ];
    for (const [, kind, input, message] of cases) {
      const id = await r.submit(kind, input);
      const job = await finished(r, id);
      expect(job.state).toBe('FAILED');
      expect(job.error).toMatch(message);
      expect(job.receipt_id).toBeNull();
      expect((await r.call('GET', `/v1/jobs/${id}/receipts`)).json.items).toEqual([]);
      expect((await r.call('GET', `/v1/jobs/${id}/result`)).json.error.code).toBe('COORD_NOT_COMPLETED');
    }
    expect(events.jobFailed.map((e) => [e.code, e.reported])).toEqual([
      ['MINER_WASM_TRAP', true],
      ['MINER_TIMEOUT', true],
      ['MINER_BAD_INPUT', true],
      ['MINER_RUNNER_ERROR', true],
    ]);
    expect(events.jobCompleted).toEqual([]);
  });

  it('never runs more than `concurrency` jobs at once (seen from the coordinator)', async () => {
    const r = await rig({ minerCount: 1 });
    const gate = gateRunner();
    const a = agent(r, r.miners[0]!, { runners: [gate], concurrency: 2 });
    let active = 0;
    let maxActive = 0;
    r.engine.onTransition((job, previous) => {
      const was = previous === 'ASSIGNED' || previous === 'RUNNING';
      const is = job.state === 'ASSIGNED' || job.state === 'RUNNING';
      active += Number(is) - Number(was);
      maxActive = Math.max(maxActive, active);
    });
    await a.start();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await r.submit('test.gate', { i }));
    await until(async () => (gate.waiting.size === 2 ? true : undefined));
    expect(a.runningJobs).toHaveLength(2);
    expect(r.engine.queued).toBe(3);
    for (let done = 0; done < ids.length; ) {
      gate.open();
      done = (await Promise.all(ids.map((id) => r.job(id)))).filter((j) => j.state === 'COMPLETED').length;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(maxActive).toBe(2);
  });

  it('stop() stops polling and drains: the running job finishes and is reported, no new job is taken', async () => {
    const r = await rig({ minerCount: 1 });
    const gate = gateRunner();
    const a = agent(r, r.miners[0]!, { runners: [gate] });
    const events = record(a);
    await a.start();
    const first = await r.submit('test.gate', {});
    await until(async () => (gate.waiting.has(first) ? true : undefined));
    const stopped = a.stop({ drainTimeoutMs: 10_000 });
    const second = await r.submit('test.gate', {});
    setTimeout(() => gate.open(first), 300);
    await stopped;
    expect((await r.job(first)).state).toBe('COMPLETED');
    expect(events.jobCompleted.map((e) => e.jobId)).toEqual([first]);
    expect(a.runningJobs).toEqual([]);
    await r.engine.sweep();
    expect((await r.job(second)).state).toBe('QUEUED');
  });

  it('at the drain timeout abandons jobs (re-queued after the lease, done by another miner) or fails them', async () => {
    const r = await rig({ leaseMs: 1_000 });
    const [m0, m1] = r.miners as [RigMiner, RigMiner];
    const stuck = gateRunner();
    const a0 = agent(r, m0, { runners: [stuck], onDrainTimeout: 'abandon' });
    const e0 = record(a0);
    await a0.start();
    const id = await r.submit('test.gate', {});
    await until(async () => (stuck.waiting.has(id) ? true : undefined));
    await a0.stop({ drainTimeoutMs: 100 });
    expect(stuck.aborted).toEqual([id]);
    expect(e0.jobFailed).toMatchObject([{ jobId: id, code: 'MINER_ABANDONED', reported: false }]);
    expect((await r.job(id)).state).toBe('RUNNING');
    const quick = gateRunner();
    quick.open();
    const a1 = agent(r, m1, { runners: [quick] });
    await a1.start();
    const job = await finished(r, id);
    expect(job.state).toBe('COMPLETED');
    expect(job.miner_id).toBe('miner-1');
    // (RUNNING entries depend on heartbeat timing: compare the assignments and re-queues only)
    expect(job.history.filter((h) => h.state !== 'RUNNING').map((h) => [h.state, h.miner_id])).toEqual([
      ['QUEUED', null],
      ['ASSIGNED', 'miner-0'],
      ['QUEUED', null],
      ['ASSIGNED', 'miner-1'],
      ['COMPLETED', 'miner-1'],
    ]);

    const failing = gateRunner();
    const a2 = agent(r, m0, { runners: [failing], onDrainTimeout: 'fail' });
    await a1.stop();
    await a2.start();
    const id2 = await r.submit('test.gate', {});
    await until(async () => (failing.waiting.has(id2) ? true : undefined));
    await a2.stop({ drainTimeoutMs: 50 });
    const failed = await finished(r, id2);
    expect(failed.state).toBe('FAILED');
    expect(failed.error).toMatch(/\(drain timeout\) \[MINER_STOPPED\]/);
  });

  it('aborts a job the client canceled (told by the heartbeat) without reporting it', async () => {
    const r = await rig({ minerCount: 1 });
    const gate = gateRunner();
    const a = agent(r, r.miners[0]!, { runners: [gate] });
    const events = record(a);
    await a.start();
    const id = await r.submit('test.gate', {});
    await until(async () => (gate.waiting.has(id) ? true : undefined));
    expect((await r.call('POST', `/v1/jobs/${id}/cancel`)).json.state).toBe('CANCELED');
    await until(async () => (events.jobFailed.length > 0 ? true : undefined));
    expect(gate.aborted).toEqual([id]);
    expect(events.jobFailed).toMatchObject([{ jobId: id, code: 'MINER_CANCELED', reported: false }]);
    expect((await r.job(id)).state).toBe('CANCELED');
  });

  it('bills at most the job’s max price and keeps the measured units', async () => {
    const r = await rig({ minerCount: 1 });
    const gate = gateRunner({ units: 1000n, unitType: 'step' });
    gate.open();
    const a = agent(r, r.miners[0]!, { runners: [gate] });
    await a.start();
    const id = await r.submit('test.gate', {}, '5005');
    expect((await finished(r, id)).state).toBe('COMPLETED');
    const receipt = await receiptOf(r, id);
    expect(receipt).toMatchObject({ units: 500, unit_price: '10', price: '5000', unit_type: 'step' });
    expect(receipt.metadata).toMatchObject({ job_kind: 'test.gate', units_measured: '1000' });
  });

  it('advertises llm.generate with the endpoint’s models and runs it, receipt naming model and prompt', async () => {
    const llm = await startLlmServer();
    llms.push(llm);
    const r = await rig({ minerCount: 1 });
    const a = agent(r, r.miners[0]!, { llm: { endpoint: llm.url, protocol: 'ollama' } });
    const { capabilities } = await a.start();
    expect(capabilities.jobKinds).toEqual(['hash', 'wasm', 'llm.generate']);
    expect(capabilities.models).toEqual(['tiny-echo:1b', 'tiny-echo:3b']);
    const id = await r.submit('llm.generate', { prompt: 'say hi', model: 'tiny-echo:3b' });
    expect((await finished(r, id)).state).toBe('COMPLETED');
    expect((await r.call('GET', `/v1/jobs/${id}/result`)).json.output).toMatchObject({ text: 'echo: say hi' });
    const receipt = await receiptOf(r, id);
    expect(receipt).toMatchObject({ model: 'tiny-echo:3b', unit_type: 'token', units: 5 });
    expect(receipt.prompt_hash).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('keeps the lease of a long job through heartbeats (the hash runner yields to them)', async () => {
    const r = await rig({ minerCount: 1, leaseMs: 800 });
    const a = agent(r, r.miners[0]!, { heartbeatMs: 100 });
    await a.start();
    // several leases long on this machine
    const id = await r.submit('hash', { text: 'long', iterations: 400_000 });
    const job = await finished(r, id);
    expect(job.state).toBe('COMPLETED');
    expect(job.history.filter((h) => h.state === 'ASSIGNED' || h.state === 'QUEUED')).toHaveLength(2); // never re-queued
  });

  it('registers again when the coordinator forgot the miner, and keeps working', async () => {
    const r = await rig({ minerCount: 1 });
    const a = agent(r, r.miners[0]!);
    const events = record(a);
    await a.start();
    await r.hub.registry.remove('miner-0');
    await until(async () => (r.hub.registry.peek('miner-0') !== undefined ? true : undefined));
    expect(events.error.map((e) => e.error.code)).toContain('COORD_UNKNOWN_MINER');
    const id = await r.submit('hash', { text: 'after re-registration' });
    expect((await finished(r, id)).state).toBe('COMPLETED');
  });

  it('start/stop lifecycle: stop while starting, start while running refused, restart after stop', async () => {
    const r = await rig({ minerCount: 1 });
    const a = agent(r, r.miners[0]!);
    const started = a.start();
    await a.stop();
    await started;
    const queued = await r.submit('hash', { text: 'nobody polls' });
    await r.engine.sweep();
    expect((await r.job(queued)).state).toBe('QUEUED');
    await a.start();
    await expect(a.start()).rejects.toMatchObject({ code: 'MINER_BAD_STATE' });
    expect((await finished(r, queued)).state).toBe('COMPLETED');
    await a.stop();
    await a.stop(); // idempotent
  });

  it('refuses a bad configuration and a start with a wrong key', async () => {
    const r = await rig({ minerCount: 1 });
    const m = r.miners[0]!;
    const bad = (o: Partial<MinerAgentOptions>) => () => agent(r, m, o);
    expect(bad({ seed: new Uint8Array(16) })).toThrow(/seed/);
    expect(bad({ minerId: 'no spaces allowed' })).toThrow(/minerId/);
    expect(bad({ concurrency: 0 })).toThrow(/concurrency/);
    expect(bad({ pollWaitSeconds: 0 })).toThrow(/pollWaitSeconds/);
    expect(bad({ runners: [createHashRunner(), createHashRunner()] })).toThrow(/two runners/);
    expect(bad({ coordinatorUrl: 'not a url' })).toThrow(/URL/);
    const wrongKey = agent(r, { ...m, apiKey: 'wrong' });
    const e = await wrongKey.start().catch((err: unknown) => err);
    expect(isAitbcError(e, 'COORD_UNAUTHORIZED')).toBe(true);
    const otherId = agent(r, { ...m, id: 'miner-9' });
    expect(await otherId.start().catch((err: unknown) => (err as { code: string }).code)).toBe('COORD_FORBIDDEN');
  });
});

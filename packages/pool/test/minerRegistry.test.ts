import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelKVStore } from '@aitbc/storage-level';
import { describe, expect, it } from 'vitest';
import { MinerRegistry } from '../src/index.js';
import { manualClock, registration } from './fixtures.js';

describe('MinerRegistry', () => {
  it('registers, heartbeats and takes miners offline after the timeout', async () => {
    const clock = manualClock();
    const registry = new MinerRegistry({ now: clock.now, heartbeatTimeoutMs: 10_000 });
    const rec = await registry.register(registration('m1'));
    expect(rec.status.online).toBe(true);
    expect(registry.onlineCount()).toBe(1);
    clock.advance(10_001);
    expect(registry.get('m1')!.status.online).toBe(false);
    expect(registry.onlineCount()).toBe(0);
    expect(registry.list({ onlineOnly: true })).toEqual([]);
    const hb = registry.heartbeat('m1', { activeJobs: 2, queueLength: 3, utilization: 1.7, latencyMs: 100 });
    expect(hb.status).toMatchObject({ online: true, activeJobs: 2, queueLength: 3, utilization: 1, latencyMs: 100 });
    registry.heartbeat('m1', { latencyMs: 200 });
    expect(registry.get('m1')!.status.latencyMs).toBeCloseTo(120); // EWMA with smoothing 0.2
  });

  it('keeps stats and trust across re-registration and refuses another key for a known id', async () => {
    const registry = new MinerRegistry();
    const reg = registration('m1');
    await registry.register(reg);
    await registry.recordOutcome('m1', { success: false });
    await registry.setTrust('m1', 0.9);
    const again = await registry.register({ ...reg, pricePerUnit: 5n });
    expect(again.pricePerUnit).toBe(5n);
    expect(again.stats).toEqual({ completed: 0, failed: 1 });
    expect(again.trust).toBe(0.9);
    await expect(registry.register(registration('m1'))).rejects.toMatchObject({ code: 'POOL_MINER_KEY_MISMATCH' });
  });

  it('indexes by job kind and re-indexes on update', async () => {
    const registry = new MinerRegistry();
    const reg = registration('m1', { capabilities: { jobKinds: ['wasm'] } });
    await registry.register(reg);
    expect(registry.liveCandidates('wasm').map((m) => m.id)).toEqual(['m1']);
    expect(registry.liveCandidates('hash')).toEqual([]);
    await registry.register({ ...reg, capabilities: { ...reg.capabilities, jobKinds: ['hash'] } });
    expect(registry.liveCandidates('wasm')).toEqual([]);
    expect(registry.liveCandidates('hash').map((m) => m.id)).toEqual(['m1']);
    expect(await registry.remove('m1')).toBe(true);
    expect(registry.liveCandidates('hash')).toEqual([]);
    expect(await registry.remove('m1')).toBe(false);
  });

  it('returns copies that callers cannot use to corrupt the registry', async () => {
    const registry = new MinerRegistry();
    await registry.register(registration('m1'));
    const copy = registry.get('m1')!;
    (copy.status as { activeJobs: number }).activeJobs = 99;
    expect(registry.get('m1')!.status.activeJobs).toBe(0);
  });

  it('fails with typed errors on unknown miners, bad trust, a full registry and bad config', async () => {
    const registry = new MinerRegistry({ maxMiners: 1 });
    expect(() => registry.heartbeat('nope')).toThrow(expect.objectContaining({ code: 'POOL_UNKNOWN_MINER' }));
    await expect(registry.recordOutcome('nope', { success: true })).rejects.toMatchObject({
      code: 'POOL_UNKNOWN_MINER',
    });
    await registry.register(registration('a'));
    await expect(registry.register(registration('b'))).rejects.toMatchObject({ code: 'POOL_REGISTRY_FULL' });
    await expect(registry.setTrust('a', 1.5)).rejects.toMatchObject({ code: 'POOL_BAD_REQUEST' });
    await expect(registry.setTrust('a', Number.NaN)).rejects.toMatchObject({ code: 'POOL_BAD_REQUEST' });
    expect(() => new MinerRegistry({ heartbeatTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'POOL_BAD_CONFIG' }),
    );
  });
});

describe('MinerRegistry persistence', () => {
  it('keeps registrations, stats and trust across a restart on a real level database, and not live status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aitbc-pool-'));
    try {
      const clock = manualClock();
      let store = await LevelKVStore.open({ path: dir });
      const first = new MinerRegistry({ store, now: clock.now });
      await first.open();
      const reg = registration('persisted', { pricePerUnit: 123n });
      await first.register(reg);
      await first.recordOutcome('persisted', { success: true });
      await first.recordOutcome('persisted', { success: false });
      await first.setTrust('persisted', 0.75);
      await first.register(registration('removed'));
      await first.remove('removed');
      await store.close();

      store = await LevelKVStore.open({ path: dir });
      const second = new MinerRegistry({ store, now: clock.now });
      await second.open();
      expect(second.size).toBe(1);
      const back = second.get('persisted')!;
      expect(back).toMatchObject({
        pricePerUnit: 123n,
        trust: 0.75,
        stats: { completed: 1, failed: 1 },
        address: reg.address,
      });
      expect(back.publicKey).toEqual(reg.publicKey);
      expect(back.status.online).toBe(false); // live status comes back with the next heartbeat
      expect(second.heartbeat('persisted').status.online).toBe(true);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

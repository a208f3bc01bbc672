import { describe, expect, it } from 'vitest';
import { createPoolHub, isEligible, type MatchRequest, matchMiners, scoreMiner } from '../src/index.js';
import { manualClock, registration } from './fixtures.js';

describe('hub.rank and the candidate index', () => {
  it('ranks like match (same order and scores), without explanations, and honours accept', async () => {
    const clock = manualClock();
    const hub = createPoolHub({ now: clock.now });
    for (let i = 0; i < 40; i++) {
      await hub.registry.register(
        registration(`m${i}`, {
          pricePerUnit: BigInt(10 + ((i * 37) % 90)),
          capabilities: { gpus: [{ model: 'A100', vramGb: 16 + (i % 5) * 16 }], region: i % 2 ? 'eu-west' : 'us-east' },
        }),
      );
      hub.registry.heartbeat(`m${i}`, { activeJobs: i % 3, latencyMs: 10 + i, utilization: (i % 10) / 10 });
    }
    const request: MatchRequest = {
      requirements: { jobKind: 'wasm', minVramGb: 40 },
      hints: { region: 'eu-west' },
      topK: 7,
    };
    const matched = hub.match(request);
    const ranked = hub.rank(request);
    expect(ranked.ranked.map((r) => r.miner.id)).toEqual(matched.candidates.map((c) => c.minerId));
    expect(ranked.ranked.map((r) => r.score)).toEqual(matched.candidates.map((c) => c.score));
    expect(ranked.eligible).toBe(matched.eligible);
    // The library matcher over plain records agrees with the indexed path.
    const slow = matchMiners(hub.registry.list(), request, hub.weights, 0);
    expect(slow.candidates.map((c) => c.minerId)).toEqual(matched.candidates.map((c) => c.minerId));
    const odd = hub.rank(request, { topK: 100, accept: (m) => Number(m.id.slice(1)) % 2 === 1 });
    expect(odd.ranked.length).toBeGreaterThan(0);
    expect(odd.ranked.every((r) => Number(r.miner.id.slice(1)) % 2 === 1)).toBe(true);
    expect(odd.eligible).toBe(odd.ranked.length);
  });

  it('follows re-registrations, removals, heartbeats and timeouts', async () => {
    const clock = manualClock();
    const hub = createPoolHub({ now: clock.now, heartbeatTimeoutMs: 1_000 });
    await hub.registry.register(registration('a', { maxConcurrency: 1, capabilities: { jobKinds: ['wasm'] } }));
    await hub.registry.register(registration('b', { capabilities: { jobKinds: ['hash'] } }));
    const ids = (kind: string) =>
      hub.match({ requirements: { jobKind: kind }, topK: 10 }).candidates.map((c) => c.minerId);
    expect(ids('wasm')).toEqual(['a']);
    hub.registry.heartbeat('a', { activeJobs: 1 }); // its one slot is busy
    expect(ids('wasm')).toEqual([]);
    hub.registry.touch('a', { activeJobs: 0 });
    expect(ids('wasm')).toEqual(['a']);
    // Re-registering with other kinds moves it in the index.
    await hub.registry.register(
      registration('a', { publicKey: hub.registry.peek('a')!.publicKey, capabilities: { jobKinds: ['hash'] } }),
    );
    expect(ids('wasm')).toEqual([]);
    expect(ids('hash').sort()).toEqual(['a', 'b']);
    await hub.registry.remove('b');
    expect(ids('hash')).toEqual(['a']);
    expect(hub.match({ requirements: { jobKind: 'hash' } }).online).toBe(1);
    expect(hub.registry.isOnline('a')).toBe(true);
    clock.advance(1_001); // no heartbeat: offline
    expect(hub.registry.isOnline('a')).toBe(false);
    expect(hub.registry.isOnline('nobody')).toBe(false);
    expect(ids('hash')).toEqual([]);
    expect(hub.match({ requirements: { jobKind: 'hash' } }).online).toBe(0);
    hub.registry.touch('a');
    expect(ids('hash')).toEqual(['a']);
    // Slots are reused after a removal without mixing up records.
    await hub.registry.register(registration('c', { capabilities: { jobKinds: ['hash'], region: 'ap-south' } }));
    expect(
      hub.match({ requirements: { jobKind: 'hash', regions: ['ap-south'] } }).candidates.map((c) => c.minerId),
    ).toEqual(['c']);
    expect(hub.match({ requirements: { jobKind: 'hash', regions: ['nowhere'] } }).candidates).toEqual([]);
    expect(hub.match({ requirements: { jobKind: 'hash', models: ['never-registered'] } }).candidates).toEqual([]);
  });

  it('compares prices above 2^53 exactly', async () => {
    const hub = createPoolHub();
    const big = 10n ** 30n;
    await hub.registry.register(registration('at', { pricePerUnit: big }));
    await hub.registry.register(registration('over', { pricePerUnit: big + 1n }));
    const request: MatchRequest = { requirements: { maxPricePerUnit: big }, topK: 5 };
    const result = hub.match(request);
    expect(result.candidates.map((c) => c.minerId)).toEqual(['at']);
    const at = hub.registry.get('at')!;
    expect(isEligible(hub.registry.get('over')!, request)).toBe(false);
    expect(result.candidates[0]!.score).toBe(scoreMiner(at, request, { minEligiblePrice: big }, hub.weights).score);
  });
});

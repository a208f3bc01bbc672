import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createPoolHub,
  DEFAULT_WEIGHTS,
  isEligible,
  type MatchRequest,
  normalizeWeights,
  scoreMiner,
} from '../src/index.js';
import { manualClock, registration } from './fixtures.js';

describe('normalizeWeights', () => {
  it('normalizes to a sum of 1 and keeps proportions', () => {
    const w = normalizeWeights({ price: 2, fit: 0, latency: 0, successRate: 0, load: 0, trust: 2 });
    expect(w.price).toBeCloseTo(0.5);
    expect(w.trust).toBeCloseTo(0.5);
    const sum = Object.values(normalizeWeights()).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1);
    expect(normalizeWeights().price).toBeCloseTo(DEFAULT_WEIGHTS.price);
  });

  it.each([
    [{ price: -1 }],
    [{ fit: Number.NaN }],
    [{ fit: 0, price: 0, latency: 0, successRate: 0, load: 0, trust: 0 }],
  ])('rejects %j with POOL_BAD_WEIGHTS', (weights) => {
    expect(() => normalizeWeights(weights)).toThrow(expect.objectContaining({ code: 'POOL_BAD_WEIGHTS' }));
  });
});

describe('scoreMiner terms', () => {
  const clock = manualClock();

  async function hubWith(...regs: Parameters<typeof registration>[]) {
    const hub = createPoolHub({ now: clock.now });
    for (const r of regs) await hub.registry.register(registration(...r));
    return hub;
  }

  it('computes every term by its documented formula', async () => {
    const hub = await hubWith(['a', { pricePerUnit: 50n, maxConcurrency: 4 }]);
    hub.registry.heartbeat('a', { activeJobs: 1, queueLength: 1, utilization: 0.5, latencyMs: 500 });
    await hub.registry.recordOutcome('a', { success: true });
    await hub.registry.recordOutcome('a', { success: true });
    await hub.registry.recordOutcome('a', { success: false });
    await hub.registry.setTrust('a', 0.8);
    const miner = hub.registry.get('a')!;
    const request: MatchRequest = { requirements: { minVramGb: 12, minRamGb: 32, maxPricePerUnit: 200n } };
    const { score, terms } = scoreMiner(miner, request, { minEligiblePrice: 50n }, normalizeWeights());
    expect(terms.fit.value).toBeCloseTo((12 / 24 + 32 / 64) / 2);
    expect(terms.price.value).toBeCloseTo((200 - 50) / 200);
    // latency: 500 reported, then outcomes carry none → EWMA stays 500 → 500 / (500 + 500)
    expect(terms.latency.value).toBeCloseTo(0.5);
    expect(terms.successRate.value).toBeCloseTo(3 / 5);
    expect(terms.load.value).toBeCloseTo(((3 / 4) * (1 - 0.25)) / 2);
    expect(terms.trust.value).toBe(0.8);
    const expected = Object.values(terms).reduce((acc, t) => acc + t.value * t.weight, 0);
    expect(score).toBeCloseTo(expected);
    for (const t of Object.values(terms)) {
      expect(t.contribution).toBeCloseTo(t.value * t.weight);
      expect(t.reason.length).toBeGreaterThan(0);
    }
    expect(terms.fit.reason).toContain('VRAM GiB 12/24');
  });

  it('prices relative to the cheapest eligible miner without a max price', async () => {
    const hub = await hubWith(['cheap', { pricePerUnit: 40n }], ['dear', { pricePerUnit: 160n }]);
    const result = hub.match({ requirements: {}, topK: 2 });
    const dear = result.candidates.find((c) => c.minerId === 'dear')!;
    const cheap = result.candidates.find((c) => c.minerId === 'cheap')!;
    expect(cheap.terms.price.value).toBe(1);
    expect(dear.terms.price.value).toBeCloseTo(0.25);
    expect(result.candidates[0]!.minerId).toBe('cheap');
  });

  it('gives unreported latency 0.5, or 1 in the hinted region', async () => {
    const hub = await hubWith(
      ['eu', { capabilities: { region: 'eu-west' } }],
      ['us', { capabilities: { region: 'us-east' } }],
    );
    const r = hub.match({ requirements: {}, hints: { region: 'us-east' }, topK: 2 });
    expect(r.candidates.find((c) => c.minerId === 'us')!.terms.latency.value).toBe(1);
    expect(r.candidates.find((c) => c.minerId === 'eu')!.terms.latency.value).toBe(0.5);
  });

  it('each weight moves the ranking it governs', async () => {
    const clockB = manualClock();
    const hub = createPoolHub({
      now: clockB.now,
      weights: { trust: 1, price: 0, fit: 0, latency: 0, successRate: 0, load: 0 },
    });
    await hub.registry.register(registration('x', { pricePerUnit: 1n }));
    await hub.registry.register(registration('y', { pricePerUnit: 1000n }));
    await hub.registry.setTrust('y', 1);
    await hub.registry.setTrust('x', 0.1);
    expect(hub.match({ requirements: {} }).candidates[0]!.minerId).toBe('y');
    const byPrice = createPoolHub({
      now: clockB.now,
      weights: { trust: 0, price: 1, fit: 0, latency: 0, successRate: 0, load: 0 },
    });
    await byPrice.registry.register(registration('x', { pricePerUnit: 1n }));
    await byPrice.registry.register(registration('y', { pricePerUnit: 1000n }));
    expect(byPrice.match({ requirements: {} }).candidates[0]!.minerId).toBe('x');
  });
});

describe('hard filters (property)', () => {
  const gpu = fc.record({
    model: fc.constantFrom('A100', 'H100', 'RTX 4090', 'T4'),
    vramGb: fc.integer({ min: 4, max: 80 }),
  });
  const miner = fc.record({
    gpus: fc.array(gpu, { maxLength: 4 }),
    ramGb: fc.integer({ min: 0, max: 512 }),
    cpuCores: fc.integer({ min: 0, max: 128 }),
    models: fc.subarray(['llama3:8b', 'mistral', 'sdxl', 'whisper']),
    jobKinds: fc.subarray(['wasm', 'hash', 'llm.generate'], { minLength: 1 }),
    region: fc.constantFrom('eu-west', 'us-east', 'ap-south'),
    price: fc.bigInt({ min: 0n, max: 1000n }),
    maxConcurrency: fc.integer({ min: 1, max: 4 }),
    activeJobs: fc.integer({ min: 0, max: 5 }),
    online: fc.boolean(),
  });
  const requirements = fc.record(
    {
      jobKind: fc.constantFrom('wasm', 'hash', 'llm.generate'),
      minVramGb: fc.integer({ min: 0, max: 80 }),
      minGpus: fc.integer({ min: 0, max: 3 }),
      minRamGb: fc.integer({ min: 0, max: 512 }),
      minCpuCores: fc.integer({ min: 0, max: 128 }),
      models: fc.subarray(['llama3:8b', 'mistral', 'sdxl', 'whisper'], { maxLength: 2 }),
      regions: fc.subarray(['eu-west', 'us-east', 'ap-south']),
      maxPricePerUnit: fc.bigInt({ min: 0n, max: 1000n }),
    },
    { requiredKeys: [] },
  );

  it('never returns a miner that misses a requirement, and the top-k really are the best', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(miner, { minLength: 1, maxLength: 30 }),
        requirements,
        fc.integer({ min: 1, max: 10 }),
        async (miners, req, topK) => {
          const clock = manualClock();
          const hub = createPoolHub({ now: clock.now, heartbeatTimeoutMs: 1000 });
          for (const [i, m] of miners.entries()) {
            await hub.registry.register(
              registration(`m${i}`, {
                pricePerUnit: m.price,
                maxConcurrency: m.maxConcurrency,
                capabilities: {
                  gpus: m.gpus,
                  ramGb: m.ramGb,
                  cpuCores: m.cpuCores,
                  models: m.models,
                  jobKinds: m.jobKinds,
                  region: m.region,
                },
              }),
            );
          }
          clock.advance(500);
          miners.forEach((m, i) => {
            if (m.online) hub.registry.heartbeat(`m${i}`, { activeJobs: m.activeJobs });
          });
          clock.advance(700); // miners without a fresh heartbeat are now offline
          const request: MatchRequest = { requirements: req, topK };
          const result = hub.match(request);
          const all = hub.registry.list();
          const eligible = all.filter((m) => isEligible(m, request));
          expect(result.eligible).toBe(eligible.length);
          expect(result.candidates.length).toBe(Math.min(topK, eligible.length));
          for (const c of result.candidates) {
            const m = all.find((x) => x.id === c.minerId)!;
            const i = Number(m.id.slice(1));
            const src = miners[i]!;
            expect(src.online).toBe(true);
            expect(src.activeJobs).toBeLessThan(src.maxConcurrency);
            if (req.jobKind) expect(src.jobKinds).toContain(req.jobKind);
            if (req.minVramGb)
              expect(Math.max(0, ...src.gpus.map((g) => g.vramGb))).toBeGreaterThanOrEqual(req.minVramGb);
            if (req.minGpus) expect(src.gpus.length).toBeGreaterThanOrEqual(req.minGpus);
            if (req.minRamGb !== undefined) expect(src.ramGb).toBeGreaterThanOrEqual(req.minRamGb);
            if (req.minCpuCores !== undefined) expect(src.cpuCores).toBeGreaterThanOrEqual(req.minCpuCores);
            if (req.maxPricePerUnit !== undefined) expect(src.price <= req.maxPricePerUnit).toBe(true);
            if (req.regions && req.regions.length > 0) expect(req.regions).toContain(src.region);
            for (const model of req.models ?? []) expect(src.models).toContain(model);
          }
          const scores = result.candidates.map((c) => c.score);
          expect([...scores].sort((a, b) => b - a)).toEqual(scores);
          if (result.candidates.length > 0) {
            const lowest = scores[scores.length - 1]!;
            const chosen = new Set(result.candidates.map((c) => c.minerId));
            const context = {
              minEligiblePrice: eligible.reduce(
                (min, m) => (m.pricePerUnit < min ? m.pricePerUnit : min),
                eligible[0]!.pricePerUnit,
              ),
            };
            for (const m of eligible) {
              if (!chosen.has(m.id))
                expect(scoreMiner(m, request, context, hub.weights).score).toBeLessThanOrEqual(lowest + 1e-12);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

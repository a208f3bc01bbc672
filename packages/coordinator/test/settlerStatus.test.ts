import { hashApiKey } from '@aitbc/pool';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../test-support/until.ts';
import { type CoordinatorServer, createCoordinatorServer } from '../src/index.js';
import { AIT, world } from './settlementWorld.js';

let server: CoordinatorServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('the settler’s state for operators: /health, /v1/admin/stats, /metrics', () => {
  it('shows backing-off with the last error while the node is down, counts it, and ok once it settled', async () => {
    const w = await world();
    const settler = w.newSettler({ intervalMs: 5, maxBackoffMs: 40 });
    server = createCoordinatorServer({
      engine: w.engine,
      hub: w.hub,
      chainId: 'aitbc-settle',
      coordinatorId: 'c',
      port: 0,
      logLevel: false,
      settler,
      apiKeys: [{ role: 'admin', hash: hashApiKey('admin-key') }],
    });
    const { url } = await server.start();
    const job = await w.engine.submit(w.addr(w.client), { kind: 'hash', input: 's', maxPrice: AIT });
    await w.lockEscrow(job.id, AIT);
    await w.produce();
    await w.completeNext(1n);
    w.faults.set('escrow', 'rejects');
    settler.start();
    await until(async () => (settler.status().consecutiveFailures >= 2 ? true : undefined));

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200); // the API keeps answering: jobs run, payments wait
    expect(await health.json()).toMatchObject({
      status: 'ok',
      settlement: {
        state: 'backing-off',
        open: 1,
        last_error: { code: 'COORD_SETTLEMENT_UNAVAILABLE', operation: 'escrow', job_id: job.id },
      },
    });
    const stats = await fetch(`${url}/v1/admin/stats`, { headers: { 'x-api-key': 'admin-key' } });
    expect(await stats.json()).toMatchObject({ settlement: { state: 'backing-off', open: 1 } });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/coordinator_settler_backing_off 1/);
    expect(metrics).toMatch(/coordinator_settlements_open 1/);
    expect(metrics).toMatch(/coordinator_settlement_errors_total\{kind="unavailable"\} [1-9]/);

    w.faults.clear();
    await until(async () => {
      await w.produce();
      return (await settler.get(job.id))?.state === 'final' ? true : undefined;
    });
    await until(async () => (settler.status().open === 0 && settler.status().state === 'ok' ? true : undefined));
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({
      settlement: { state: 'ok', open: 0, consecutive_failures: 0 },
    });
    const after = await (await fetch(`${url}/metrics`)).text();
    expect(after).toMatch(/coordinator_settler_backing_off 0/);
    expect(after).toMatch(/coordinator_settlements_finished_total\{state="final"\} 1/);
    await settler.stop();
  });
});

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHashRunner, createLlmRunner, createWasmRunner, probeCapabilities } from '../../src/miner/index.js';
import { type LlmServer, startLlmServer } from './llmServer.js';

const dirs: string[] = [];
const servers: LlmServer[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const s of servers.splice(0)) await s.stop();
});

/** An executable `nvidia-smi` stand-in that prints what the real one prints for these query flags. */
function fakeNvidiaSmi(stdout: string, exitCode = 0): string {
  const dir = mkdtempSync(join(tmpdir(), 'aitbc-probe-'));
  dirs.push(dir);
  const path = join(dir, 'nvidia-smi');
  writeFileSync(path, `#!/bin/sh\nprintf '%s' '${stdout}'\nexit ${exitCode}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('capability probe', () => {
  it('reports this machine: CPU and RAM positive, no GPUs without nvidia-smi, runner kinds', async () => {
    const warnings: string[] = [];
    const caps = await probeCapabilities({
      runners: [createHashRunner(), createWasmRunner()],
      onWarning: (m) => warnings.push(m),
      region: 'eu-west',
    });
    expect(caps.cpuCores).toBeGreaterThan(0);
    expect(caps.ramGb).toBeGreaterThan(0);
    expect(caps.gpus).toEqual([]); // this machine has no nvidia-smi
    expect(caps.jobKinds).toEqual(['hash', 'wasm']);
    expect(caps.models).toEqual([]);
    expect(caps.region).toBe('eu-west');
    expect(warnings).toEqual([]);
  });

  it('parses GPUs from nvidia-smi output', async () => {
    const path = fakeNvidiaSmi('NVIDIA GeForce RTX 4090, 24564\nNVIDIA A100-SXM4-80GB, 81920\n');
    const caps = await probeCapabilities({ nvidiaSmiPath: path });
    expect(caps.gpus).toEqual([
      { model: 'NVIDIA GeForce RTX 4090', vramGb: 23.9 },
      { model: 'NVIDIA A100-SXM4-80GB', vramGb: 80 },
    ]);
  });

  it('goes on without GPUs when nvidia-smi fails, with a warning', async () => {
    const warnings: string[] = [];
    const caps = await probeCapabilities({
      nvidiaSmiPath: fakeNvidiaSmi('NVIDIA-SMI has failed', 9),
      onWarning: (m) => warnings.push(m),
    });
    expect(caps.gpus).toEqual([]);
    expect(warnings.join()).toMatch(/nvidia-smi failed/);
  });

  it('lists the models of a configured Ollama endpoint, and none when it is down', async () => {
    const s = await startLlmServer();
    servers.push(s);
    const caps = await probeCapabilities({ nvidiaSmiPath: false, runners: [createLlmRunner({ endpoint: s.url })] });
    expect(caps.models).toEqual(['tiny-echo:1b', 'tiny-echo:3b']);
    expect(caps.jobKinds).toEqual(['llm.generate']);
    const down = await startLlmServer();
    await down.stop();
    const warnings: string[] = [];
    const none = await probeCapabilities({
      nvidiaSmiPath: false,
      runners: [createLlmRunner({ endpoint: down.url })],
      onWarning: (m) => warnings.push(m),
    });
    expect(none.models).toEqual([]);
    expect(warnings.join()).toMatch(/unreachable/);
  });
});

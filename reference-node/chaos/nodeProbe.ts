/** Reading a node under fault: API calls that give up after a deadline, and the process's memory. */
import { readFileSync } from 'node:fs';
import { createNodeClient, type NodeClient } from '@aitbc/rpc/client';

/**
 * A node API client whose every request is aborted after `timeoutMs`: a stopped (SIGSTOP) or
 * partitioned node must not hold the harness.
 */
export function timedClient(rpcUrl: string, timeoutMs = 2_000): NodeClient {
  return createNodeClient({
    baseUrl: rpcUrl,
    fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
  });
}

/** The head height a node reports, or `undefined` when it does not answer in time. */
export async function headOf(client: NodeClient): Promise<number | undefined> {
  try {
    return (await client.head()).height;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in bytes (Linux `/proc/<pid>/status`), or `undefined`. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Resolves after `ms` (phases of a scenario: the time a fault is held, a load's warm-up). */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

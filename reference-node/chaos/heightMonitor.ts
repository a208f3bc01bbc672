/**
 * Watches finality: polls every node's head (every `intervalMs`, each request bounded) and keeps when
 * each node first reported each new height. A BFT height is final once committed, so a head moving up
 * is finality moving on.
 */
import type { NodeClient } from '@aitbc/rpc/client';
import { headOf } from './nodeProbe.ts';

/** A node's head, first seen at `at` (ms since the epoch). */
export interface HeadSample {
  readonly node: number;
  readonly height: number;
  readonly at: number;
}

/** A running monitor; see {@link startHeightMonitor}. */
export interface HeightMonitor {
  /** The highest height any of `nodes` (default all) reported at or before `at`, -1 if none. */
  heightAt(at: number, nodes?: readonly number[]): number;
  /** When one of `nodes` (default all) first reported a height above `height` after `after`. */
  firstAbove(height: number, after: number, nodes?: readonly number[]): number | undefined;
  /** When every one of `nodes` (default all) had reported `height` or more, after `after`. */
  allReached(height: number, after: number, nodes?: readonly number[]): number | undefined;
  /** The longest time in [from, to] during which none of `nodes` reported a new height (ms). */
  longestStall(from: number, to: number, nodes?: readonly number[]): number;
  /** Resolves once `fn` holds for a sample, or `undefined` after `timeoutMs`. */
  waitFor<T>(fn: () => T | undefined, timeoutMs: number): Promise<T | undefined>;
  stop(): Promise<void>;
}

/** Starts polling `clients` (one per node, timing out); see the module comment. */
export function startHeightMonitor(clients: readonly NodeClient[], intervalMs = 200): HeightMonitor {
  const samples: HeadSample[] = [];
  const last = clients.map(() => -1);
  const all = clients.map((_, i) => i);
  let running = true;
  let wake: (() => void) | undefined;
  const poll = async (node: number) => {
    while (running) {
      const started = Date.now();
      const h = await headOf(clients[node] as NodeClient);
      if (h !== undefined && h > (last[node] as number)) {
        last[node] = h;
        samples.push({ node, height: h, at: Date.now() });
        wake?.();
      }
      const wait = intervalMs - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  };
  const loops = all.map(poll);
  const of = (nodes: readonly number[]) => samples.filter((s) => nodes.includes(s.node));
  const monitor: HeightMonitor = {
    heightAt(at, nodes = all) {
      let h = -1;
      for (const s of of(nodes)) if (s.at <= at && s.height > h) h = s.height;
      return h;
    },
    firstAbove(height, after, nodes = all) {
      return of(nodes).find((s) => s.at >= after && s.height > height)?.at;
    },
    allReached(height, after, nodes = all) {
      let at = after;
      for (const n of nodes) {
        const s = samples.find((x) => x.node === n && x.height >= height);
        if (s === undefined) return undefined;
        at = Math.max(at, s.at);
      }
      return at;
    },
    longestStall(from, to, nodes = all) {
      let top = monitor.heightAt(from, nodes);
      let since = from;
      let longest = 0;
      for (const s of of(nodes)) {
        if (s.at < from || s.at > to || s.height <= top) continue;
        longest = Math.max(longest, s.at - since);
        top = s.height;
        since = s.at;
      }
      return Math.max(longest, to - since);
    },
    async waitFor(fn, timeoutMs) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const v = fn();
        if (v !== undefined) return v;
        const left = end - Date.now();
        if (left <= 0) return undefined;
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.min(left, intervalMs));
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
  return monitor;
}

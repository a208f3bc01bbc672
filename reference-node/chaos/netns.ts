/**
 * Linux network namespaces for the chaos campaign's partition: each node in a namespace of its own,
 * created and deleted by the harness (root only; no iptables needed).
 *
 * Layout for a run (namespace names carry this process's pid, so a later run can remove what a
 * killed run left behind):
 * - a hub namespace `aitbc-chaos-<pid>-hub` with two bridges, `side0` and `side1`, joined by a veth
 *   pair `link0`–`link1`: the first half of the nodes is attached to `side0`, the rest to `side1`;
 *   `partition()` sets the joining link down (a 2|2 split for 4 nodes), `heal()` sets it up again.
 * - per node `aitbc-chaos-<pid>-n<i>`: `data0` on its side's bridge with 10.201.0.(i+1)/24 (peer
 *   traffic: the nodes dial each other there), and `mgmt0`, a point-to-point link to this (root)
 *   namespace in a /30 (10.202.<slot>.(4i+2), this side .(4i+1)): the harness reaches each node's
 *   API and peer port there. A node namespace has no route to any other node's management address,
 *   and namespaces do not forward, so the management links never bridge the two sides.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { NodePlacement } from '../test/networkHarness.ts';

const run = promisify(execFile);
const PREFIX = 'aitbc-chaos-';

async function ip(...args: string[]): Promise<string> {
  const { stdout } = await run('ip', args, { timeout: 10_000 });
  return stdout;
}

/** Network namespaces built by {@link createNetnsTopology}. */
export interface NetnsTopology {
  /** How node `i` is placed (for `startTestNetwork`'s `placement`). */
  placement(index: number): NodePlacement;
  /** Cuts the link between the two halves of the nodes. */
  partition(): Promise<void>;
  /** Restores it. */
  heal(): Promise<void>;
  /** Deletes every namespace (and with them every link) of this run. Safe to call twice. */
  destroy(): Promise<void>;
}

/** Why network namespaces cannot be used here, or `undefined` when they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root';
  try {
    await ip('netns', 'list');
  } catch (err) {
    return `the ip command failed: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

/** Deletes the namespaces of earlier runs whose process is gone (a run killed before its cleanup). */
export async function removeStaleNamespaces(): Promise<string[]> {
  const removed: string[] = [];
  for (const line of (await ip('netns', 'list')).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (alive && pid !== process.pid) continue;
    await ip('netns', 'del', name).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

/** A /24 of 10.202.x.0 not used by an address of this namespace (management links of concurrent runs). */
async function freeSlot(): Promise<number> {
  const used = await ip('-4', '-o', 'addr', 'show');
  for (let k = 0; k < 250; k++) {
    const slot = (process.pid + k) % 250;
    if (!used.includes(`10.202.${slot}.`)) return slot;
  }
  throw new Error('no free 10.202.x.0/24 for the management links');
}

/** Creates the namespaces for `count` nodes (see the module comment); undoes what it made if a step fails. */
export async function createNetnsTopology(count: number): Promise<NetnsTopology> {
  if (count < 2 || count > 60) throw new Error('a netns topology holds 2..60 nodes');
  const hub = `${PREFIX}${process.pid}-hub`;
  const nodeNs = (i: number) => `${PREFIX}${process.pid}-n${i}`;
  const created: string[] = [];
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    for (const ns of created.reverse()) await ip('netns', 'del', ns).catch(() => undefined);
  };
  const slot = await freeSlot();
  const mgmt = (i: number, end: 1 | 2) => `10.202.${slot}.${4 * i + end}`;
  const inNs = (ns: string, ...args: string[]) => ip('-n', ns, ...args);
  try {
    await ip('netns', 'add', hub);
    created.push(hub);
    await inNs(hub, 'link', 'set', 'lo', 'up');
    for (const side of ['side0', 'side1']) {
      await inNs(hub, 'link', 'add', side, 'type', 'bridge');
      await inNs(hub, 'link', 'set', side, 'up');
    }
    await inNs(hub, 'link', 'add', 'link0', 'type', 'veth', 'peer', 'name', 'link1');
    await inNs(hub, 'link', 'set', 'link0', 'master', 'side0');
    await inNs(hub, 'link', 'set', 'link1', 'master', 'side1');
    await inNs(hub, 'link', 'set', 'link0', 'up');
    await inNs(hub, 'link', 'set', 'link1', 'up');
    for (let i = 0; i < count; i++) {
      const ns = nodeNs(i);
      await ip('netns', 'add', ns);
      created.push(ns);
      await inNs(ns, 'link', 'set', 'lo', 'up');
      // data: node ns `data0` <-> hub `d<i>` on the node's side bridge
      await inNs(ns, 'link', 'add', 'data0', 'type', 'veth', 'peer', 'name', `d${i}`, 'netns', hub);
      await inNs(ns, 'addr', 'add', `10.201.0.${i + 1}/24`, 'dev', 'data0');
      await inNs(ns, 'link', 'set', 'data0', 'up');
      await inNs(hub, 'link', 'set', `d${i}`, 'master', i < count / 2 ? 'side0' : 'side1');
      await inNs(hub, 'link', 'set', `d${i}`, 'up');
      // management: node ns `mgmt0` <-> this namespace's `acm<pid>n<i>`, a /30
      const local = `acm${process.pid % 1_000_000}n${i}`;
      await ip('link', 'add', local, 'type', 'veth', 'peer', 'name', 'mgmt0', 'netns', ns);
      await inNs(ns, 'addr', 'add', `${mgmt(i, 2)}/30`, 'dev', 'mgmt0');
      await inNs(ns, 'link', 'set', 'mgmt0', 'up');
      await ip('addr', 'add', `${mgmt(i, 1)}/30`, 'dev', local);
      await ip('link', 'set', local, 'up');
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  const setLink = async (state: 'up' | 'down') => {
    await inNs(hub, 'link', 'set', 'link0', state);
    await inNs(hub, 'link', 'set', 'link1', state);
  };
  return {
    placement: (i) => ({
      listenHost: '0.0.0.0',
      reachHost: mgmt(i, 2),
      peerHost: `10.201.0.${i + 1}`,
      launcher: ['ip', 'netns', 'exec', nodeNs(i)],
    }),
    partition: () => setLink('down'),
    heal: () => setLink('up'),
    destroy,
  };
}

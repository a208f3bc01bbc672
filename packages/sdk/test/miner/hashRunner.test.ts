import { bytesToHex, isAitbcError, sha256, utf8ToBytes } from '@aitbc/crypto';
import { describe, expect, it } from 'vitest';
import { createHashRunner, type RunnerJob } from '../../src/miner/index.js';

const job = (input: RunnerJob['input']): RunnerJob => ({
  jobId: 'job_h',
  kind: 'hash',
  input,
  client: 'ait1c',
  maxPrice: 1n,
});
const ctx = () => ({ signal: new AbortController().signal });

describe('hash runner', () => {
  const runner = createHashRunner({ sliceMs: 0 }); // yields every 256 iterations

  it('hashes base64url data and text, iterated', async () => {
    const hi = utf8ToBytes('hi');
    expect((await runner.run(job({ data: 'aGk' }), ctx())).output).toEqual({
      digest: bytesToHex(sha256(hi)),
      iterations: 1,
    });
    const three = sha256(sha256(sha256(hi)));
    const r = await runner.run(job({ text: 'hi', iterations: 3 }), ctx());
    expect(r.output).toEqual({ digest: bytesToHex(three), iterations: 3 });
    expect(r).toMatchObject({ units: 1n, unitType: 'job' });
    // across chunk boundaries the digest is the same as a straight loop
    let h = sha256(hi);
    for (let i = 1; i < 1000; i++) h = sha256(h);
    expect((await runner.run(job({ text: 'hi', iterations: 1000 }), ctx())).output).toMatchObject({
      digest: bytesToHex(h),
    });
  });

  it('stops a long run when canceled', async () => {
    const ac = new AbortController();
    const p = runner.run(job({ text: 'x', iterations: 50_000_000 }), { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toMatchObject({ code: 'MINER_CANCELED' });
  });

  it.each([
    ['both data and text', { data: 'aGk', text: 'hi' }, /exactly one/],
    ['neither', { iterations: 2 }, /exactly one/],
    ['bad base64', { data: '!!' }, /base64/],
    ['zero iterations', { text: 'a', iterations: 0 }, /iterations/],
    ['too many iterations', { text: 'a', iterations: 1e12 }, /iterations/],
    ['an unknown field', { text: 'a', rounds: 2 }, /rounds/],
    ['an array', ['a'], /object/],
  ])('rejects %s', async (_name, input, message) => {
    const e = await runner.run(job(input as RunnerJob['input']), ctx()).catch((err: unknown) => err);
    expect(isAitbcError(e, 'MINER_BAD_INPUT')).toBe(true);
    expect((e as Error).message).toMatch(message);
  });
});

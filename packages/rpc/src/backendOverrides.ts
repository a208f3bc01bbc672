import type { NodeBackend } from './nodeBackend.js';

/**
 * `backend` with some of its members replaced: a Proxy, so that a class-based backend keeps its
 * `this`; every other method is bound to the backend once (not on every call). Layers that guard a
 * backend (a bound on pending submissions, admission control, storage health) wrap it this way, each
 * replacing only what it guards.
 *
 * @example
 * ```ts
 * import { overrideBackend } from '@aitbc/rpc';
 * const readOnly = overrideBackend(backend, {
 *   submitTx: () => {
 *     throw new Error('this node takes no transactions');
 *   },
 * });
 * ```
 */
export function overrideBackend<B extends NodeBackend>(backend: B, overrides: Partial<NodeBackend>): B {
  const bound = new Map<PropertyKey, { readonly of: unknown; readonly fn: unknown }>();
  return new Proxy(backend, {
    get(target, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof NodeBackend];
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      let entry = bound.get(key);
      if (entry?.of !== value) {
        entry = { of: value, fn: value.bind(target) };
        bound.set(key, entry);
      }
      return entry.fn;
    },
  });
}

/**
 * Runs `submit` (a backend's `submitTx`) and calls `release` exactly once when its answer is known:
 * at once for a synchronous answer or throw, when the promise settles otherwise. For guards that
 * count submissions in flight.
 *
 * @example
 * ```ts
 * import { submitThenRelease } from '@aitbc/rpc';
 * let inFlight = 0;
 * inFlight++;
 * const id = await submitThenRelease(() => backend.submitTx(txJson), () => inFlight--);
 * ```
 */
export function submitThenRelease(
  submit: () => ReturnType<NodeBackend['submitTx']>,
  release: () => void,
): ReturnType<NodeBackend['submitTx']> {
  let answer: ReturnType<NodeBackend['submitTx']>;
  try {
    answer = submit();
  } catch (err) {
    release();
    throw err;
  }
  if (typeof answer === 'string') {
    release();
    return answer;
  }
  return answer.finally(release);
}

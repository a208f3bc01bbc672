import type { BatchOp, KVStore } from '@aitbc/chain-core';
import { bytesToUtf8, utf8ToBytes } from '@aitbc/crypto';
import type { Settlement } from './settler.js';

/**
 * The settlement outbox: one record per completed job under `coord/settle/<jobId>` (JSON). The job
 * engine writes the first record (`pending`) in the SAME atomic batch as the job's COMPLETED
 * transition, so a job can never be stored as completed without its settlement intent; the settler
 * then moves the record through `submitted` to `final` (or `failed`).
 * @internal
 */
export const SETTLEMENT_PREFIX = 'coord/settle/';
/** The first key after every settlement record (`'/' + 1 === '0'`). */
const SETTLEMENT_END = 'coord/settle0';

/**
 * A settlement record as stored: the public {@link Settlement} (settler.ts says what each field means).
 * @internal
 */
export type SettlementRecord = Settlement;

/** @internal */
export function settlementKey(jobId: string): Uint8Array {
  return utf8ToBytes(SETTLEMENT_PREFIX + jobId);
}

/** @internal */
export function encodeSettlement(s: SettlementRecord): Uint8Array {
  return utf8ToBytes(JSON.stringify(s));
}

/** @internal */
export function decodeSettlement(bytes: Uint8Array): SettlementRecord {
  return JSON.parse(bytesToUtf8(bytes)) as SettlementRecord;
}

/**
 * The op that records a completed job's settlement intent (`pending`, no attempt yet). Written in the
 * job's completion batch.
 * @internal
 */
export function settlementIntentOp(jobId: string, now: number): BatchOp {
  return {
    type: 'put',
    key: settlementKey(jobId),
    value: encodeSettlement({ jobId, state: 'pending', attempts: 0, createdAt: now, updatedAt: now }),
  };
}

/** Every settlement record, in job id order. @internal */
export async function* settlementRecords(store: KVStore): AsyncGenerator<SettlementRecord> {
  for await (const [, v] of store.iterate({ gte: utf8ToBytes(SETTLEMENT_PREFIX), lt: utf8ToBytes(SETTLEMENT_END) }))
    yield decodeSettlement(v);
}

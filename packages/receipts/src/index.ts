/**
 * AITBC compute receipts: the receipt model wire-compatible with the original AITBC Python receipts,
 * its canonical bytes, the miner's signature, coordinator attestations and verification against
 * pinned keys.
 * @packageDocumentation
 */
export {
  canonicalizeReceipt,
  receiptHash,
  receiptSigningBytes,
  serializeReceipt,
  signedPayload,
  UNSIGNED_FIELDS,
} from './canonicalizeReceipt.js';
export { JsonNumber, type ReceiptJsonValue } from './jsonNumber.js';
export { MAX_RECEIPT_DEPTH, MAX_RECEIPT_JSON_LENGTH, parseReceiptJson } from './parseReceiptJson.js';
export {
  attestReceipt,
  type CreateReceiptParams,
  createReceipt,
  RECEIPT_VERSION,
  type Receipt,
  type ReceiptFailureReason,
  type ReceiptSignature,
  type ReceiptVerification,
  receiptPrice,
  type SignatureCheck,
  signReceipt,
  type TrustedKeys,
  validateReceipt,
  verifyReceipt,
  verifyReceiptAsync,
} from './receipt.js';

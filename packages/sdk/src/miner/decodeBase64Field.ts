import { AitbcError, base64urlToBytes } from '@aitbc/crypto';

/**
 * Decodes a job-input field holding bytes: base64url or standard base64, padding optional, at most
 * `maxBytes` decoded bytes.
 * @throws AitbcError `MINER_BAD_INPUT` naming the field.
 */
export function decodeBase64Field(value: unknown, field: string, maxBytes: number): Uint8Array {
  if (typeof value !== 'string') {
    throw new AitbcError('MINER_BAD_INPUT', `input.${field} must be a base64 string`, { details: { field } });
  }
  if (Math.floor((value.length * 3) / 4) > maxBytes + 2) {
    throw new AitbcError('MINER_BAD_INPUT', `input.${field} is larger than ${maxBytes} bytes`, {
      details: { field, limit: maxBytes },
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = base64urlToBytes(
      value
        .replace(/={1,2}$/, '')
        .replaceAll('+', '-')
        .replaceAll('/', '_'),
    );
  } catch (cause) {
    throw new AitbcError('MINER_BAD_INPUT', `input.${field} is not valid base64`, { details: { field }, cause });
  }
  if (bytes.length > maxBytes) {
    throw new AitbcError('MINER_BAD_INPUT', `input.${field} is larger than ${maxBytes} bytes`, {
      details: { field, limit: maxBytes },
    });
  }
  return bytes;
}

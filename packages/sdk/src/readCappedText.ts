import { AitbcError } from '@aitbc/crypto';

/**
 * Reads a fetch response body as UTF-8 text, refusing bodies over `maxBytes` (the stream is
 * canceled as soon as the limit is crossed, so a hostile server cannot fill memory).
 * @throws AitbcError `code` when the body is too large.
 */
export async function readCappedText(response: Response, maxBytes: number, code: string): Promise<string> {
  const body = response.body;
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new AitbcError(code, `the response body exceeds ${maxBytes} bytes`, { details: { limit: maxBytes } });
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.byteLength;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(all);
}

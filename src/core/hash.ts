/** The sha256 of a text's UTF-8 bytes, in hex: how texts, tokenizers and configs are identified. */
import { createHash } from 'node:crypto';

export function sha256Text(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

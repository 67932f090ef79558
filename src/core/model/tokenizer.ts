/** Loading a model's tokenizer (tokenizer.json + tokenizer_config.json) with @huggingface/tokenizers. */
import { Tokenizer } from '@huggingface/tokenizers';
import { readFile, stat } from 'node:fs/promises';
import { sha256Text } from '../hash';
import path from 'node:path';

export interface TextTokenizer {
  encode(text: string): { ids: number[]; tokens: string[] };
  /** Text of the given ids, special tokens dropped, no clean-up (so it maps back onto the input). */
  decode(ids: number[]): string;
  /** Largest id the tokenizer can produce, plus one. */
  vocabSize: number;
  padId: number;
  /** sha256 of the tokenizer.json read. */
  sha256: string;
}

export class TokenizerError extends Error {}

/** Loads the tokenizer at `location`: a folder holding tokenizer.json, or a tokenizer.json file (its tokenizer_config.json beside it). */
export async function loadTokenizer(location: string): Promise<TextTokenizer> {
  const isFile = location.endsWith('.json') || (await stat(location).then((s) => s.isFile(), () => false));
  const file = isFile ? location : path.join(location, 'tokenizer.json');
  let json: Record<string, unknown>;
  let sha256: string;
  try {
    const text = await readFile(file, 'utf8');
    sha256 = sha256Text(text);
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new TokenizerError(`Cannot load the tokenizer ${file}: ${(err as Error).message}`);
  }
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await readFile(path.join(path.dirname(file), 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    // tokenizer_config.json only refines special-token handling; tokenizer.json alone is usable.
  }
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (err) {
    throw new TokenizerError(`The tokenizer ${file} could not be loaded: ${(err as Error).message}`);
  }
  const vocab = tokenizer.get_vocab(true);
  let maxId = -1;
  for (const id of vocab.values()) if (id > maxId) maxId = id;
  const padToken = typeof config.pad_token === 'string' ? config.pad_token : undefined;
  const padId = (padToken !== undefined ? tokenizer.token_to_id(padToken) : undefined) ?? 0;
  return {
    encode: (text) => {
      const e = tokenizer.encode(text);
      return { ids: e.ids, tokens: e.tokens };
    },
    decode: (ids) => tokenizer.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }),
    vocabSize: maxId + 1,
    sha256,
    padId,
  };
}

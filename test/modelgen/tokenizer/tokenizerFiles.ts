/** tokenizer.json and tokenizer_config.json for the generated models (GPT-2-style byte-level BPE). */
import { buildByteLevelBpe } from './byteLevelBpe';

export const EOS_TOKEN = '<|endoftext|>';
export const PAD_TOKEN = '[PAD]';
const SPECIAL_TOKENS = [EOS_TOKEN, PAD_TOKEN];

export interface TokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  eosTokenId: number;
  padTokenId: number;
}

/** A tokenizer whose ids are exactly 0 .. vocabSize - 1, special tokens last. */
export function buildTokenizerFiles(vocabSize: number, maxLength: number): TokenizerFiles {
  const { vocab, merges } = buildByteLevelBpe(vocabSize - SPECIAL_TOKENS.length);
  const specials = SPECIAL_TOKENS.map((content, i) => ({ id: vocab.size + i, content }));
  const addedTokens = specials.map(({ id, content }) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const fullVocab: Record<string, number> = Object.fromEntries(vocab);
  for (const { id, content } of specials) fullVocab[content] = id;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: fullVocab,
      merges,
    },
  };
  const tokenizerConfig = {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(addedTokens.map((t) => [String(t.id), { ...t, id: undefined }])),
    bos_token: EOS_TOKEN,
    eos_token: EOS_TOKEN,
    pad_token: PAD_TOKEN,
    unk_token: null,
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength,
    tokenizer_class: 'GPT2Tokenizer',
  };
  return { tokenizerJson, tokenizerConfig, eosTokenId: specials[0].id, padTokenId: specials[1].id };
}

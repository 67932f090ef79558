/** config.json in the Hugging Face layout the profiler reads (layer count, hidden size, architecture). */
import type { GenOptions, StyleBuild } from './types';

export function buildConfigJson(o: GenOptions, build: StyleBuild, ids: { eos: number; pad: number }): Record<string, unknown> {
  return {
    ...build.config,
    hidden_size: o.hidden,
    num_hidden_layers: o.layers,
    num_attention_heads: o.heads,
    vocab_size: o.vocabSize,
    bos_token_id: ids.eos,
    eos_token_id: ids.eos,
    pad_token_id: ids.pad,
    use_cache: build.inputs.some((i) => i.role === 'past_key'),
    transformers_version: '4.46.0',
  };
}

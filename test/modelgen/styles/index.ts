/** Style name -> graph builder. */
import type { WeightRandom } from '../random';
import type { GenOptions, ModelStyle, StyleBuild } from '../types';
import { buildBertPostnorm } from './bertPostnorm';
import { buildGenaiFused } from './genaiFused';
import { buildGenaiGqa } from './genaiGqa';
import { buildMergedIf } from './mergedIf';
import { buildMoe } from './moe';
import { buildNeoxParallel } from './neoxParallel';
import { buildOptFlatMlp } from './optFlatMlp';
import { buildOptimumLlama } from './optimumLlama';
import { buildOrtFused } from './ortFused';

export function buildStyle(style: ModelStyle, o: GenOptions, rng: WeightRandom): StyleBuild {
  switch (style) {
    case 'optimum-llama':
      return buildOptimumLlama(o, rng, { opset: 14, quantized: false });
    case 'optimum-llama-opset18':
      return buildOptimumLlama(o, rng, { opset: 18, quantized: false });
    case 'genai-fused':
      return buildGenaiFused(o, rng);
    case 'ort-fused':
      return buildOrtFused(o, rng);
    case 'bert-postnorm':
      return buildBertPostnorm(o, rng);
    case 'neox-parallel':
      return buildNeoxParallel(o, rng);
    case 'merged-if':
      return buildMergedIf(o, rng);
    case 'quantized':
      return buildOptimumLlama(o, rng, { opset: 14, quantized: true });
    case 'quantized-dynamic':
      return buildOptimumLlama(o, rng, { opset: 14, quantized: false, dynamic8: true });
    case 'genai-gqa':
      return buildGenaiGqa(o, rng);
    case 'opt-flat-mlp':
      return buildOptFlatMlp(o, rng);
    case 'moe':
      return buildMoe(o, rng);
  }
}

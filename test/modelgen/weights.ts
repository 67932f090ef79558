/**
 * Model parameters as initializers. Values come from the seeded per-name streams; the graph name
 * of a parameter is chosen by the exporter style (Optimum's `onnx::MatMul_<n>` for transposed
 * linear weights, genai's `model.layers.0.attn.q_proj.MatMul.weight`, ...).
 */
import type { GraphBuilder } from './onnx/graphBuilder';
import { floatTensor } from './onnx/tensors';
import type { WeightRandom } from './random';

export type FloatType = 'float32' | 'float16';

export class Weights {
  /** Graph names handed out per parameter, so an If's two branches share one initializer. */
  private readonly names = new Map<string, string>();
  private matmulCounter = 0;

  constructor(
    readonly g: GraphBuilder,
    readonly rng: WeightRandom,
    readonly dtype: FloatType,
  ) {}

  /** N(mean, std) initializer for `param`, created once; returns its graph name. */
  normal(param: string, dims: readonly number[], std: number, opts: { mean?: number; name?: string; dtype?: FloatType } = {}): string {
    const name = opts.name ?? param;
    if (!this.g.hasInitializer(name)) {
      const data = this.values(param, size(dims), std, opts.mean);
      this.g.initializer(floatTensor(name, data, dims, opts.dtype ?? this.dtype));
    }
    return name;
  }

  /** Fixed (non-random) float initializer, e.g. rotary tables. */
  fixed(name: string, data: Float32Array, dims: readonly number[], dtype: FloatType = this.dtype): string {
    if (!this.g.hasInitializer(name)) this.g.initializer(floatTensor(name, data, dims, dtype));
    return name;
  }

  values(param: string, count: number, std: number, mean = 0): Float32Array {
    return this.rng.normal(param, count, std, mean);
  }

  /** Optimum exports store transposed linear weights under anonymous `onnx::MatMul_<n>` names. */
  optimumMatMulName(param: string): string {
    let name = this.names.get(param);
    if (!name) {
      name = `onnx::MatMul_${3000 + this.matmulCounter++}`;
      this.names.set(param, name);
    }
    return name;
  }

  /** Per-layer gain on branch outputs, so layers differ in how much they move the residual. */
  layerGain(layer: number): number {
    return this.rng.uniform(`layer_gain.${layer}`, 0.4, 1.6);
  }
}

export function size(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

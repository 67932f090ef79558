/** MLP activations as torch.onnx writes them (SiLU as Sigmoid * x, exact GELU through Erf). */
import type { Scope } from '../onnx/graphBuilder';
import type { FloatType } from '../weights';

/** SiLU: x * sigmoid(x), the form torch exports below opset 20. */
export function silu(s: Scope, x: string): string {
  return s.op('Mul', [x, s.op('Sigmoid', [x])]);
}

/** Exact GELU: x * 0.5 * (1 + erf(x / sqrt 2)). */
export function geluErf(s: Scope, x: string, dtype: FloatType): string {
  const scaled = s.op('Div', [x, s.g.constFloat(Math.SQRT2, dtype)]);
  const erf = s.op('Erf', [scaled]);
  const shifted = s.op('Add', [erf, s.g.constFloat(1, dtype)]);
  const gated = s.op('Mul', [x, shifted]);
  return s.op('Mul', [gated, s.g.constFloat(0.5, dtype)]);
}

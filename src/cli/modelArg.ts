/** Interpreting `--model`: a local folder or .onnx file when it exists, else a Hub id. */
import { existsSync } from 'node:fs';
import { DEFAULT_DTYPE, DEFAULT_MODEL_ID, DTYPES, type Dtype, type ModelSpec } from '../core/api';

export class UsageError extends Error {}

export function parseModelArg(model: string | undefined, dtype: string | undefined, revision?: string): ModelSpec {
  const d = parseDtype(dtype);
  if (!model) return { kind: 'hub', id: DEFAULT_MODEL_ID, dtype: d ?? DEFAULT_DTYPE, ...(revision ? { revision } : {}) };
  // A local folder is read by dtype as a Hub repo is; without one it keeps model.onnx / onnx/model.onnx.
  if (existsSync(model) || model.startsWith('.') || model.startsWith('/') || model.endsWith('.onnx')) return { kind: 'local', path: model, ...(d ? { dtype: d } : {}) };
  if (!/^[\w.-]+\/[\w.-]+$/.test(model)) throw new UsageError(`'${model}' is neither an existing path nor a Hub id like org/name.`);
  return { kind: 'hub', id: model, dtype: d ?? DEFAULT_DTYPE, ...(revision ? { revision } : {}) };
}

function parseDtype(dtype: string | undefined): Dtype | undefined {
  if (dtype === undefined) return undefined;
  const d = dtype === 'quantized' ? 'q8' : dtype;
  if (!(DTYPES as readonly string[]).includes(d)) throw new UsageError(`Unknown dtype '${dtype}'; use one of ${DTYPES.join(', ')}.`);
  return d as Dtype;
}

/** `name=path` pairs; a bare path is named after its last component. */
export function parseDatasetArg(arg: string): { name: string; path: string } {
  const eq = arg.indexOf('=');
  if (eq === 0) throw new UsageError(`--dataset '${arg}' has no name before '='; write name=${arg.slice(1) || 'PATH'} (or give the path alone to name it after its folder).`);
  if (eq === arg.length - 1) throw new UsageError(`--dataset '${arg}' has no path after '='; write ${arg}PATH.`);
  if (eq > 0) return { name: arg.slice(0, eq), path: arg.slice(eq + 1) };
  const name = arg.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || arg;
  return { name, path: arg };
}

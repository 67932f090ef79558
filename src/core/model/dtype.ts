/**
 * transformers.js naming of the ONNX weights of one model in its different precisions.
 * transformers.js (v3) builds the file name as `onnx/<model>${suffix}.onnx`, the suffix coming
 * from the dtype (its DEFAULT_DTYPE_SUFFIX_MAPPING); repos such as onnx-community/* follow it.
 */
import { DTYPES, type Dtype } from '../api';

/** Folder of a transformers.js repo that holds the ONNX files. */
export const ONNX_SUBFOLDER = 'onnx';

const DTYPE_SUFFIX: Record<Dtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

export function isDtype(s: string): s is Dtype {
  return (DTYPES as readonly string[]).includes(s);
}

/** File name (inside `onnx/`) of the weights for `dtype`, e.g. q8 -> model_quantized.onnx. */
export function onnxFileForDtype(dtype: Dtype): string {
  return `model${DTYPE_SUFFIX[dtype]}.onnx`;
}

/** Repo path of the weights for `dtype`, e.g. q8 -> onnx/model_quantized.onnx. */
export function onnxPathForDtype(dtype: Dtype): string {
  return `${ONNX_SUBFOLDER}/${onnxFileForDtype(dtype)}`;
}

/** The dtypes whose weights appear among `repoPaths` (repo-relative, `/`-separated), in DTYPES order. */
export function availableDtypes(repoPaths: Iterable<string>): Dtype[] {
  const present = new Set(repoPaths);
  return DTYPES.filter((d) => present.has(onnxPathForDtype(d)));
}

/**
 * External-data files that belong to `onnxPath`: `<file>_data`, `<file>_data_1`, ... (the names
 * transformers.js exports and loads) and `<file>.data` (the ONNX exporter's default), in a stable
 * order.
 */
export function externalDataPathsFor(onnxPath: string, repoPaths: Iterable<string>): string[] {
  const chunk = new RegExp(`^${escapeRegExp(onnxPath)}_data(?:_(\\d+))?$`);
  const found: { path: string; index: number }[] = [];
  for (const p of repoPaths) {
    if (p === `${onnxPath}.data`) found.push({ path: p, index: -1 });
    else {
      const m = chunk.exec(p);
      if (m) found.push({ path: p, index: m[1] === undefined ? 0 : Number(m[1]) });
    }
  }
  return found.sort((a, b) => a.index - b.index).map((f) => f.path);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A realistic ViewState for rendering checks: two datasets (cpp, python) of a 24-layer model and
 * a 40-token heatmap of a Python selection, shaped like real runs (large first and last layers,
 * datasets differing in a few middle layers). Deterministic, so screenshots are comparable.
 */
import { RESULTS_SCHEMA, type DatasetResult, type LayerSummary, type Moments } from '../../src/core/results';
import { PROTOCOL_VERSION, type ViewState } from '../../src/shared/protocol';

const LAYERS = 24;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function absMeanAt(layer: number, flavour: 'cpp' | 'python'): number {
  const base = 0.018 + 0.004 * layer + (layer === 0 ? 0.09 : 0) + (layer === LAYERS - 1 ? 0.21 : 0) + (layer === LAYERS - 2 ? 0.05 : 0);
  const bump = flavour === 'cpp' ? (layer >= 3 && layer <= 6 ? 0.012 : 0) + (layer === 19 ? 0.02 : 0) : layer >= 11 && layer <= 13 ? 0.008 : 0;
  return base + bump;
}

function dataset(name: 'cpp' | 'python', n: number, seed: number): DatasetResult {
  const rand = rng(seed);
  const layers: LayerSummary[] = [];
  const moments = [];
  for (let layer = 0; layer < LAYERS; layer++) {
    const abs = absMeanAt(layer, name) * (1 + 0.03 * (rand() - 0.5));
    const absStd = abs * (0.18 + 0.12 * rand());
    const mean = (rand() - 0.5) * 0.004 + (layer === LAYERS - 1 ? -0.006 : 0);
    const meanStd = 0.0015 + 0.001 * rand();
    const s = (m: number, sd: number) => ({ mean: m, std: sd, n });
    const mo = (m: number, sd: number): Moments => ({ n, mean: m, m2: sd * sd * (n - 1) });
    layers.push({ layer, mean: s(mean, meanStd), absMean: s(abs, absStd), l2: s(abs * 30, absStd * 30), residL2: s(10 + layer * 2, 1) });
    moments.push({ mean: mo(mean, meanStd), absMean: mo(abs, absStd), l2: mo(abs * 30, absStd * 30), residL2: mo(10 + layer * 2, 1) });
  }
  return { name, source: `/work/samples/${name}`, texts: n, tokens: n * 612, skipped: name === 'cpp' ? [{ path: 'big.cpp', reason: 'larger than maxFileBytes' }] : [], records: [], moments: { layers: moments }, layers };
}

const TOKENS = ['def', 'Ġfibonacci', '(', 'n', '):', 'Ċ', 'ĠĠĠ', 'Ġif', 'Ġn', 'Ġ<', 'Ġ', '2', ':', 'Ċ', 'ĠĠĠĠĠĠĠ', 'Ġreturn', 'Ġn', 'Ċ', 'ĠĠĠ', 'Ġreturn', 'Ġfibonacci', '(', 'n', 'Ġ-', 'Ġ', '1', ')', 'Ġ+', 'Ġfibonacci', '(', 'n', 'Ġ-', 'Ġ', '2', ')', 'ĊĊ', 'print', '(f', 'ibonacci', '(10))'];

function heatmapValues(tokens: string[]): number[][] {
  const rand = rng(7);
  return Array.from({ length: LAYERS }, (_, layer) =>
    tokens.map((tok, t) => {
      const first = t === 0 ? 6 : 1; // the first token soaks up attention and changes most
      const whitespace = /^[ĠĊ]+$/.test(tok) ? 0.6 : 1;
      return absMeanAt(layer, 'python') * first * whitespace * (0.6 + 0.8 * rand());
    }),
  );
}

/** `tokens` repeats the sample text to that many tokens, to exercise long heatmaps. */
export function sampleState(options: { empty?: boolean; tokens?: number } = {}): ViewState {
  const model = { id: 'onnx-community/Qwen2.5-0.5B-Instruct', dtype: 'fp32', numLayers: LAYERS, state: 'ready' as const };
  if (options.empty) return { version: PROTOCOL_VERSION, model, hidden: [] };
  const tokens = options.tokens ? Array.from({ length: options.tokens }, (_, i) => TOKENS[i % TOKENS.length]) : TOKENS;
  const absMean = heatmapValues(tokens);
  return {
    version: PROTOCOL_VERSION,
    model,
    hidden: [],
    results: {
      schema: RESULTS_SCHEMA,
      model: { id: model.id, file: 'onnx/model.onnx', sha256: '0'.repeat(64), architecture: 'Qwen2ForCausalLM', numLayers: LAYERS, hiddenSize: 896, dtype: 'fp32' },
      runtime: { tool: '0.1.0', onnxruntime: '1.30.0', executionProvider: 'cpu', threads: 2 },
      settings: { maxTokens: 1024, batchSize: 4, maxFileBytes: 1_000_000 },
      datasets: [dataset('cpp', 40, 1), dataset('python', 32, 2)],
    },
    heatmap: { label: 'fib.py:1–6', profile: { tokens, absMean, l2: absMean.map((r) => r.map((v) => v * 30)) } },
    progress: { title: 'Profiling rust', textsDone: 12, textsTotal: 50, tokensDone: 7344, secondsLeft: 21 },
  };
}

/** Results objects built from per-text values, for the comparison and findings tests. */
import { emptyMoments, pushValue, summarize } from '../../src/core/stats/moments';
import type { ProfileResults, Summary, TextRecord } from '../../src/core/results';

export function summary(values: readonly number[]): Summary {
  const m = emptyMoments();
  for (const v of values) pushValue(m, v);
  return summarize(m);
}

/**
 * A results object whose absMean (and every other metric) per layer is the summary of the given
 * per-text values: datasets[name][layer] = values. With `records`, per-text records as
 * `records[text].layers[layer].absMean`.
 */
export function resultsOf(datasets: Record<string, number[][]>, records = false): ProfileResults {
  return {
    schema: 'layer-profiler/profile@2',
    model: { id: 'test-model', file: 'model.onnx', sha256: '0'.repeat(64), numLayers: Math.max(...Object.values(datasets).map((l) => l.length)), dtype: 'fp32' },
    runtime: { tool: 'test', onnxruntime: '0', executionProvider: 'cpu', threads: 1 },
    settings: { maxTokens: 512, batchSize: 1, maxFileBytes: 1 },
    datasets: Object.entries(datasets).map(([name, layers]) => {
      const n = layers[0]?.length ?? 0;
      return {
        name,
        texts: n,
        tokens: n * 10,
        skipped: [],
        moments: { layers: [] },
        layers: layers.map((values, layer) => {
          const s = summary(values);
          return { layer, mean: s, absMean: s, l2: s, residL2: s };
        }),
        records: records ? Array.from({ length: n }, (_, k) => record(`t${k}`, layers.map((v) => v[k]))) : [],
      };
    }),
  };
}

/** A per-text record whose every metric at layer l is values[l]. */
function record(path: string, values: number[]): TextRecord {
  return {
    path,
    sha256: '0'.repeat(64),
    tokens: 10,
    windows: 1,
    exact: true,
    // A cosine stays in [-1, 1], as the schema (and every reader) requires.
    layers: values.map((v) => ({ mean: v, absMean: v, l2: v, residL2: v, relChange: v, cosine: Math.max(-1, Math.min(1, v)), normGrowth: v, substeps: [] })),
  };
}

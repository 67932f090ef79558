/**
 * A realistic ViewState for rendering checks: two datasets (cpp, python) of a 24-layer model and
 * a 40-token heatmap of a Python selection, shaped like real runs (large first and last layers,
 * datasets differing in a few middle layers). Deterministic, so screenshots are comparable.
 */
import { RESULTS_SCHEMA, type DatasetResult, type ProfileResults } from '../../src/core/results';
import { addText, emptyDatasetMoments, summarizeLayers } from '../../src/core/stats/datasetStats';
import type { TextStats } from '../../src/core/stats/textStats';
import { comparisonState } from '../../src/extension/comparisonState';
import type { LensSelection } from '../../src/shared/lensSelection';
import type { TextDiffSelection } from '../../src/shared/textDiffSelection';
import { alignByLcs } from '../../src/core/diff/align';
import type { LensPointSummary } from '../../src/core/lens/lensResults';
import { lensDatasetsView } from '../../src/extension/lensDatasetState';
import type { LensDatasetEntry } from '../../src/shared/lensDatasets';
import type { PatchSelection } from '../../src/shared/patchSelection';
import { PROTOCOL_VERSION, type ComparisonRequest, type ViewState } from '../../src/shared/protocol';

const LAYERS = 24;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Eight flavours of text, each with a few layers that react more to it. */
export const FLAVOURS = ['cpp', 'python', 'maths', 'finance', 'legal', 'medical', 'bills', 'rust'] as const;
type Flavour = (typeof FLAVOURS)[number];

function absMeanAt(layer: number, flavour: Flavour): number {
  const base = 0.018 + 0.004 * layer + (layer === 0 ? 0.09 : 0) + (layer === LAYERS - 1 ? 0.21 : 0) + (layer === LAYERS - 2 ? 0.05 : 0);
  const i = FLAVOURS.indexOf(flavour);
  const bump = flavour === 'cpp' ? (layer >= 3 && layer <= 6 ? 0.012 : 0) + (layer === 19 ? 0.02 : 0) : flavour === 'python' ? (layer >= 11 && layer <= 13 ? 0.008 : 0) : layer === 4 + i * 2 ? 0.006 + 0.002 * i : 0;
  return base + bump;
}

/** One text's per-layer values, drawn around the flavour's profile (the first token's huge values on layer 0). */
function textStats(flavour: Flavour, rand: () => number): TextStats {
  const tokens = 200 + Math.floor(rand() * 800);
  const layers = Array.from({ length: LAYERS }, (_, layer) => {
    const abs = absMeanAt(layer, flavour) * (0.7 + 0.6 * rand());
    const rel = 0.05 + 0.25 * Math.exp(-layer / 4) + (layer === LAYERS - 1 ? 0.4 : 0) + 0.03 * rand();
    const attn = abs * (0.35 + 0.3 * Math.sin(layer / 3) ** 2 + 0.1 * rand());
    const mlp = abs * (0.6 - 0.2 * Math.cos(layer / 5) + 0.1 * rand());
    return {
      mean: (rand() - 0.5) * 0.004 + (layer === LAYERS - 1 ? -0.006 : 0),
      absMean: abs,
      l2: abs * 30 * (0.9 + 0.2 * rand()),
      residL2: 10 + layer * 2 + rand(),
      relChange: rel,
      cosine: 1 - rel * rel * (0.4 + 0.2 * rand()),
      normGrowth: 1 + rel * 0.5,
      substeps: [
        { kind: 'attention' as const, mean: 0, absMean: attn, l2: attn * 30 },
        { kind: 'mlp' as const, mean: 0, absMean: mlp, l2: mlp * 30 },
      ],
    };
  });
  return { tokens, windows: 1, exact: true, layers };
}

function dataset(name: Flavour, n: number, seed: number): DatasetResult {
  const rand = rng(seed);
  const moments = emptyDatasetMoments(LAYERS, ['attention', 'mlp']);
  const records = [];
  let tokens = 0;
  for (let i = 0; i < n; i++) {
    const stats = textStats(name, rand);
    addText(moments, stats);
    tokens += stats.tokens;
    const ext = name === 'cpp' ? 'cpp' : name === 'python' ? 'py' : name === 'rust' ? 'rs' : 'txt';
    records.push({ path: `/work/samples/${name}/${name}_${String(i).padStart(2, '0')}.${ext}`, sha256: String(seed * 1000 + i).padStart(64, '0'), tokens: stats.tokens, windows: 1, exact: true, layers: stats.layers });
  }
  return { name, source: `/work/samples/${name}`, texts: n, tokens, skipped: name === 'cpp' ? [{ path: 'big.cpp', reason: 'larger than maxFileBytes' }] : [], records, moments, layers: summarizeLayers(moments) };
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

/**
 * `tokens` repeats the sample text to that many tokens, to exercise long heatmaps; `datasets` is
 * how many of the eight flavours to include (default 2: cpp and python). The comparison and
 * findings are computed as the host computes them, for `comparison` and `hidden`.
 */
export function sampleState(options: { empty?: boolean; tokens?: number; datasets?: number; comparison?: ComparisonRequest; hidden?: string[]; lens?: boolean; textDiff?: boolean; lensDatasets?: boolean; patch?: boolean } = {}): ViewState {
  const model = { id: 'onnx-community/Qwen2.5-0.5B-Instruct', dtype: 'fp32', numLayers: LAYERS, state: 'ready' as const };
  if (options.empty) return { version: PROTOCOL_VERSION, model, hidden: [] };
  const tokens = options.tokens ? Array.from({ length: options.tokens }, (_, i) => TOKENS[i % TOKENS.length]) : TOKENS;
  const absMean = heatmapValues(tokens);
  const results: ProfileResults = {
    schema: RESULTS_SCHEMA,
    model: { id: model.id, file: 'onnx/model.onnx', sha256: '0'.repeat(64), architecture: 'Qwen2ForCausalLM', numLayers: LAYERS, hiddenSize: 896, dtype: 'fp32' },
    runtime: { tool: '0.1.0', onnxruntime: '1.30.0', executionProvider: 'cpu', threads: 2 },
    settings: { maxTokens: 1024, batchSize: 4, maxFileBytes: 1_000_000 },
    datasets: FLAVOURS.slice(0, options.datasets ?? 2).map((f, i) => dataset(f, [40, 32, 24, 30, 18, 26, 20, 28][i], i + 1)),
  };
  const hidden = options.hidden ?? [];
  return {
    version: PROTOCOL_VERSION,
    model,
    hidden,
    results,
    colors: Object.fromEntries(results.datasets.map((d, i) => [d.name, i])),
    ...(options.comparison ? { comparison: options.comparison } : {}),
    ...comparisonState(results, hidden, options.comparison),
    heatmap: { label: 'fib.py:1–6', profile: { tokens, absMean, l2: absMean.map((r) => r.map((v) => v * 30)) } },
    ...(options.lens ? { lens: sampleLens(tokens) } : {}),
    ...(options.textDiff ? { textDiff: sampleTextDiff(tokens) } : {}),
    ...(options.lensDatasets ? { lensDatasets: lensDatasetsView(sampleLensDatasets(), (name, i) => (name === 'cpp' ? 0 : name === 'python' ? 1 : 2 + i), undefined) } : {}),
    ...(options.patch ? { patch: samplePatch() } : {}),
    progress: { title: 'Profiling rust', textsDone: 12, textsTotal: 50, tokensDone: 7344, secondsLeft: 21 },
  };
}

/**
 * A logit lens of the sample selection: 25 points (embedding output and 24 layers), top 5. Early
 * layers predict the input token itself or common tokens, with high entropy; from a token-dependent
 * layer on, the actual next token wins and grows more certain, as real lenses look.
 */
export function sampleLens(tokens: string[] = TOKENS): LensSelection {
  const vocab = [...new Set([...tokens, 'Ġthe', 'Ġ=', ',', 'Ġand', 'Ġin'])];
  const id = (t: string) => vocab.indexOf(t);
  const decoded = (t: string) => t.replace(/Ġ/g, ' ').replace(/Ċ/g, '\n');
  const rand = rng(11);
  const layers = Array.from({ length: LAYERS + 1 }, (_, i) => i - 1);
  const settle = tokens.map(() => 6 + Math.floor(rand() * 18));
  const nextIds = tokens.map((_, t) => (t + 1 < tokens.length ? id(tokens[t + 1]) : -1));
  const points = layers.map((_, p) => {
    const entropy: number[] = [];
    const nextLogProb: (number | null)[] = [];
    const top = tokens.map((tok, t) => {
      const next = t + 1 < tokens.length ? tokens[t + 1] : 'Ġthe';
      const knows = p >= settle[t];
      const first = knows ? next : p < 3 ? tok : vocab[(t * 7 + p) % vocab.length];
      const p1 = knows ? Math.min(0.97, 0.25 + 0.05 * (p - settle[t]) + 0.1 * rand()) : 0.04 + 0.2 * rand() + 0.01 * p;
      const others = vocab.filter((v) => v !== first).slice((t + p) % 5, ((t + p) % 5) + 4);
      const rest = others.map((v, j) => ({ id: id(v), token: decoded(v), p: ((1 - p1) * 0.5) / (j + 1) }));
      entropy.push(knows ? 3.2 * (1 - p1) + 0.1 : 5.5 + 2 * rand() - 0.08 * p);
      const pNext = next === first ? p1 : (rest.find((r) => r.id === id(next))?.p ?? 1e-4);
      nextLogProb.push(t + 1 < tokens.length ? Math.log(pNext) : null);
      return [{ id: id(first), token: decoded(first), p: p1 }, ...rest];
    });
    return { entropy, top, nextLogProb };
  });
  return { label: 'fib.py:1–6', k: 5, layers, tokens, ids: tokens.map(id), nextIds, points };
}

/**
 * Two versions of the sample selection compared: B renames `n` to `k` and inserts a token, aligned
 * by lcs. Identical tokens after a change part more in later layers, as context spreads, and
 * less the further they are from it; the renamed tokens themselves have no partner.
 */
export function sampleTextDiff(tokens: string[] = TOKENS): TextDiffSelection {
  const b = tokens.map((t) => (t === 'Ġn' ? 'Ġk' : t));
  b.splice(Math.min(8, b.length), 0, 'Ġ#');
  const vocab = [...new Set([...tokens, ...b])];
  const { pairs, onlyA, onlyB } = alignByLcs(tokens.map((t) => vocab.indexOf(t)), b.map((t) => vocab.indexOf(t)));
  const rand = rng(5);
  const layers = Array.from({ length: LAYERS + 1 }, (_, i) => i - 1);
  // How far each pair sits after the last change before it (a renamed token of A, or the insertion).
  const changes = [...onlyA, Math.min(8, tokens.length)];
  const distanceSince = pairs.map(([i]) => {
    const before = changes.filter((x) => x <= i);
    return before.length ? i - Math.max(...before) : 99;
  });
  const l2 = layers.map((layer) =>
    pairs.map((_, k) => {
      const d = distanceSince[k];
      if (layer < 0) return 0;
      return Math.exp(-d / 6) * (0.2 + layer * 0.5) * (0.85 + 0.3 * rand()) + 0.01;
    }),
  );
  return { a: { label: 'fib.py at HEAD', tokens }, b: { label: 'fib.py', tokens: b }, alignment: 'lcs', pairs, onlyA, onlyB, layers, l2 };
}

/**
 * Two folders read through the lens (cpp: 30 texts, python: 24) on the 24-layer model: per text and
 * point, top-1 accuracy and agreement rise along a sigmoid whose midpoint is earlier for cpp
 * (layer 14) than for python (layer 17); NLL, entropy and KL fall accordingly.
 */
export function sampleLensDatasets(): LensDatasetEntry[] {
  const layers = [-1, ...Array.from({ length: LAYERS }, (_, i) => i)];
  const make = (name: string, texts: number, mid: number, seed: number): LensDatasetEntry => {
    const rand = rng(seed);
    const records = Array.from({ length: texts }, (_, t) => {
      const shift = (rand() - 0.5) * 3;
      const points = layers.map((layer): LensPointSummary => {
        const k = 1 / (1 + Math.exp(-(layer - mid - shift) / 1.6));
        const noise = () => (rand() - 0.5) * 0.06;
        return { layer, top1: Math.max(0, 0.02 + 0.5 * k + noise()), agreeFinal: layer === LAYERS - 1 ? 1 : Math.max(0, 0.03 + 0.9 * k + noise()), nll: 9.5 - 7 * k + noise() * 10, entropy: 7.5 - 5.5 * k + noise() * 10, klToFinal: layer === LAYERS - 1 ? 0 : Math.max(0, 6 * (1 - k) + noise() * 5) };
      });
      return { path: `/work/samples/${name}/${name}_${t}.txt`, sha256: String(seed * 100 + t).padStart(64, '0'), tokens: 300, points };
    });
    const pooled = layers.map((layer, i): LensPointSummary => {
      const mean = (m: keyof LensPointSummary) => records.reduce((a, r) => a + r.points[i][m], 0) / records.length;
      return { layer, top1: mean('top1'), agreeFinal: mean('agreeFinal'), nll: mean('nll'), entropy: mean('entropy'), klToFinal: mean('klToFinal') };
    });
    return { name, source: `/work/samples/${name}`, texts, tokens: texts * 300, skipped: 0, layers, pooled, records };
  };
  return [make('cpp', 30, 14, 11), make('python', 24, 17, 12)];
}

/**
 * Activation patching of "The capital of France is" (clean) into "... Germany is" (corrupted) on the
 * 24-layer model: in resid_post the effect sits on the differing token in early layers and moves to
 * the last position from layer 15 on, as in the source experiment; attention and MLP outputs carry
 * smaller parts, some negative.
 */
export function samplePatch(): PatchSelection {
  const clean = ['The', 'Ġcapital', 'Ġof', 'ĠFrance', 'Ġis'];
  const corrupted = ['The', 'Ġcapital', 'Ġof', 'ĠGermany', 'Ġis'];
  const ids = (t: string[]) => t.map((x, i) => (x === 'ĠGermany' ? 9000 : 100 + i));
  const layers = Array.from({ length: LAYERS }, (_, i) => i);
  const resid = layers.map((l) => ({ layer: l, effect: clean.map((_, p) => (p === 3 ? (l < 14 ? 1 : l < 17 ? (17 - l) / 3 : 0) : p === 4 ? (l < 14 ? 0 : l < 17 ? (l - 14) / 3 : 1) : 0)) }));
  const attn = layers.map((l) => ({ layer: l, effect: clean.map((_, p) => (p === 4 && l >= 13 && l <= 17 ? 0.3 - 0.05 * Math.abs(l - 15) : p === 3 && l === 2 ? -0.15 : 0)) }));
  const mlp = layers.map((l) => ({ layer: l, effect: clean.map((_, p) => (p === 3 && l <= 3 ? 0.4 - 0.1 * l : p === 4 && l === 20 ? 0.25 : p === 4 && l === 22 ? -0.2 : 0)) }));
  return {
    clean: { label: 'capitals.txt:1', ids: ids(clean), tokens: clean },
    corrupted: { label: 'capitals.txt:2', ids: ids(corrupted), tokens: corrupted },
    metric: { kind: 'logit-diff', target: 6342, foil: 19846, targetToken: ' Paris', foilToken: ' Berlin', clean: 4.21, corrupted: -3.87 },
    grids: [
      { point: 'resid_post', layers: resid },
      { point: 'attn_out', layers: attn },
      { point: 'mlp_out', layers: mlp },
    ],
    notes: [],
  };
}

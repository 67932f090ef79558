/**
 * Results that survive a window reload: kept in workspace storage, per model, versioned.
 * Changing model switches to that model's results; nothing from two models is ever merged.
 */
import type { ProfileResults, TokenProfile } from '../core/results';
import { mergeDataset } from '../core/results/build';
import type { DatasetResult } from '../core/results';
import { upgradeResults } from '../core/results/read';
import { parseLensDatasetEntry, type LensComparisonRequest, type LensDatasetEntry } from '../shared/lensDatasets';
import { parseLensSelection, type LensSelection } from '../shared/lensSelection';
import { parsePatchSelection, type PatchSelection } from '../shared/patchSelection';
import { parseComparisonRequest, parseLensComparisonRequest, type ComparisonRequest } from '../shared/protocol';
import { parseTextDiffSelection, type TextDiffSelection } from '../shared/textDiffSelection';

const STORAGE_KEY = 'layerProfiler.results';
const STORAGE_VERSION = 1;

/** What a vscode.Memento offers that this needs. */
export interface StateStorage {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

export interface ModelResults {
  results: ProfileResults;
  hidden: string[];
  comparison?: ComparisonRequest;
  heatmap?: { label: string; profile: TokenProfile };
  /** The logit lens of the last lensed selection (its first MAX_LENS_VIEW_TOKENS tokens). */
  lens?: LensSelection;
  /** The last two compared texts (their first MAX_DIFF_VIEW_TOKENS tokens each); a new comparison replaces it. */
  textDiff?: TextDiffSelection;
  /** Folders read through the logit lens (Logit Lens on Folder as Dataset), in the order first read. */
  lensDatasets?: LensDatasetEntry[];
  /** Which two lens datasets the panel compares, on which metric. */
  lensComparison?: LensComparisonRequest;
  /** The last activation patching of two texts; a new one replaces it. */
  patch?: PatchSelection;
  /** Each dataset's colour index, assigned once (lowest free) so a dataset keeps its colour. */
  colors?: Record<string, number>;
  /** The dataset holding the last selection; the next selection replaces it unless it is kept. */
  selection?: string;
  /** Where each selection dataset's text came from, so a drill-down can open it there. */
  origins?: Record<string, TextOrigin>;
}

/** A selection's document and character range (offsets into the document as it was profiled). */
export interface TextOrigin {
  uri: string;
  start: number;
  end: number;
}

interface Persisted {
  version: number;
  byModel: Record<string, ModelResults>;
}

export class ResultsStore {
  private data: Persisted;

  constructor(private readonly storage: StateStorage) {
    const stored = storage.get<Persisted>(STORAGE_KEY);
    this.data = stored && stored.version === STORAGE_VERSION && typeof stored.byModel === 'object' ? stored : { version: STORAGE_VERSION, byModel: {} };
    // Results stored before per-text records existed (profile@1) read as @2 with no records.
    for (const entry of Object.values(this.data.byModel)) {
      entry.results = upgradeResults(entry.results);
      // Before dataset-vs-rest and metrics, the choice was a bare {a, b}.
      const old = entry.comparison as unknown as { a?: unknown; b?: unknown } | undefined;
      entry.comparison = parseComparisonRequest(entry.comparison) ?? (typeof old?.a === 'string' && typeof old.b === 'string' ? { choice: { kind: 'pair', a: old.a, b: old.b }, metric: 'absMean' } : undefined);
      // Written by another version: kept only if it still reads as a lens selection.
      if (entry.lens !== undefined) entry.lens = parseLensSelection(entry.lens);
      if (entry.textDiff !== undefined) entry.textDiff = parseTextDiffSelection(entry.textDiff);
      if (entry.lensDatasets !== undefined) entry.lensDatasets = Array.isArray(entry.lensDatasets) ? entry.lensDatasets.map(parseLensDatasetEntry).filter((d) => d !== undefined) : undefined;
      if (entry.lensComparison !== undefined) entry.lensComparison = parseLensComparisonRequest(entry.lensComparison);
      if (entry.patch !== undefined) entry.patch = parsePatchSelection(entry.patch);
      assignColors(entry);
    }
  }

  get(model: string): ModelResults | undefined {
    return this.data.byModel[model];
  }

  /** Adds or replaces a dataset; results of a different model file (sha) start afresh. */
  async putDataset(model: string, base: Omit<ProfileResults, 'datasets'>, dataset: DatasetResult, mode: 'replace' | 'merge' = 'replace'): Promise<ProfileResults> {
    const existing = this.data.byModel[model];
    const sameFile = existing && existing.results.model.sha256 === base.model.sha256;
    const datasets = sameFile ? existing.results.datasets.slice() : [];
    const i = datasets.findIndex((d) => d.name === dataset.name);
    if (i < 0) datasets.push(dataset);
    else datasets[i] = mode === 'merge' ? mergeDataset(datasets[i], dataset) : dataset;
    const results: ProfileResults = { ...base, datasets };
    const entry: ModelResults = sameFile ? { ...existing, results } : { results, hidden: [] };
    assignColors(entry);
    this.data.byModel[model] = entry;
    await this.save();
    return results;
  }

  /**
   * Puts a selection's dataset into the selection slot: the previous selection (unless kept) is
   * replaced, and a kept dataset of the same name is never overwritten.
   */
  async putSelection(model: string, base: Omit<ProfileResults, 'datasets'>, dataset: DatasetResult, origin?: TextOrigin): Promise<ProfileResults> {
    const entry = this.data.byModel[model];
    const sameFile = entry && entry.results.model.sha256 === base.model.sha256;
    if (sameFile && entry.selection !== undefined) {
      const previous = entry.selection;
      entry.results = { ...entry.results, datasets: entry.results.datasets.filter((d) => d.name !== previous) };
      entry.hidden = entry.hidden.filter((h) => h !== previous);
      if (entry.colors) delete entry.colors[previous];
      if (entry.origins) delete entry.origins[previous];
      entry.selection = undefined;
    }
    const taken = new Set(sameFile ? entry.results.datasets.map((d) => d.name) : []);
    let name = dataset.name;
    for (let i = 2; taken.has(name); i++) name = `${dataset.name} (${i})`;
    const results = await this.putDataset(model, base, name === dataset.name ? dataset : { ...dataset, name });
    this.data.byModel[model].selection = name;
    if (origin) this.data.byModel[model].origins = { ...this.data.byModel[model].origins, [name]: origin };
    await this.save();
    return results;
  }

  /** Keeps the selection slot's dataset (under `name`, when given): the next selection adds a new slot. */
  async keepSelection(model: string, name?: string): Promise<void> {
    const entry = this.data.byModel[model];
    if (!entry?.selection) return;
    const current = entry.selection;
    if (name !== undefined && name !== current) await this.rename(model, current, name);
    entry.selection = undefined;
    await this.save();
  }

  async setHeatmap(model: string, heatmap: ModelResults['heatmap']): Promise<void> {
    const entry = this.data.byModel[model];
    if (!entry) return;
    entry.heatmap = heatmap;
    await this.save();
  }

  /** Keeps a selection's logit lens; a model without results yet gets an entry with no datasets. */
  async setLens(model: string, base: Omit<ProfileResults, 'datasets'>, lens: LensSelection): Promise<void> {
    const existing = this.data.byModel[model];
    const entry = existing && existing.results.model.sha256 === base.model.sha256 ? existing : { results: { ...base, datasets: [] }, hidden: [] };
    entry.lens = lens;
    assignColors(entry);
    this.data.byModel[model] = entry;
    await this.save();
  }

  /** Keeps the last comparison of two texts (replacing the one before); a model without results yet gets an entry with no datasets. */
  async setTextDiff(model: string, base: Omit<ProfileResults, 'datasets'>, textDiff: TextDiffSelection): Promise<void> {
    const existing = this.data.byModel[model];
    const entry = existing && existing.results.model.sha256 === base.model.sha256 ? existing : { results: { ...base, datasets: [] }, hidden: [] };
    entry.textDiff = textDiff;
    assignColors(entry);
    this.data.byModel[model] = entry;
    await this.save();
  }

  /** Adds or replaces a lens dataset (by name); a model without results yet gets an entry with no datasets. */
  async putLensDataset(model: string, base: Omit<ProfileResults, 'datasets'>, dataset: LensDatasetEntry): Promise<void> {
    const entry = this.entryFor(model, base);
    const list = (entry.lensDatasets ?? []).slice();
    const i = list.findIndex((d) => d.name === dataset.name);
    if (i < 0) list.push(dataset);
    else list[i] = dataset;
    entry.lensDatasets = list;
    await this.save();
  }

  async setLensComparison(model: string, request: LensComparisonRequest): Promise<void> {
    const entry = this.data.byModel[model];
    if (!entry) return;
    entry.lensComparison = request;
    await this.save();
  }

  /** Keeps the last activation patching (replacing the one before). */
  async setPatch(model: string, base: Omit<ProfileResults, 'datasets'>, patch: PatchSelection): Promise<void> {
    this.entryFor(model, base).patch = patch;
    await this.save();
  }

  /** The model's entry, started afresh when the model file changed; a model without results gets one with no datasets. */
  private entryFor(model: string, base: Omit<ProfileResults, 'datasets'>): ModelResults {
    const existing = this.data.byModel[model];
    const entry = existing && existing.results.model.sha256 === base.model.sha256 ? existing : { results: { ...base, datasets: [] }, hidden: [] };
    assignColors(entry);
    this.data.byModel[model] = entry;
    return entry;
  }

  async setHidden(model: string, name: string, hidden: boolean): Promise<void> {
    const entry = this.data.byModel[model];
    if (!entry) return;
    entry.hidden = hidden ? [...new Set([...entry.hidden, name])] : entry.hidden.filter((h) => h !== name);
    await this.save();
  }

  async rename(model: string, from: string, to: string): Promise<void> {
    const entry = this.data.byModel[model];
    if (!entry || from === to) return;
    if (entry.results.datasets.some((d) => d.name === to)) throw new Error(`A dataset named '${to}' already exists.`);
    entry.results = { ...entry.results, datasets: entry.results.datasets.map((d) => (d.name === from ? { ...d, name: to } : d)) };
    entry.hidden = entry.hidden.map((h) => (h === from ? to : h));
    const swap = (n: string) => (n === from ? to : n);
    const choice = entry.comparison?.choice;
    if (entry.comparison && choice) entry.comparison = { ...entry.comparison, choice: choice.kind === 'pair' ? { kind: 'pair', a: swap(choice.a), b: swap(choice.b) } : { kind: 'vsRest', name: swap(choice.name) } };
    if (entry.colors && from in entry.colors) {
      entry.colors[to] = entry.colors[from];
      delete entry.colors[from];
    }
    if (entry.selection === from) entry.selection = to;
    if (entry.origins && from in entry.origins) {
      entry.origins[to] = entry.origins[from];
      delete entry.origins[from];
    }
    await this.save();
  }

  async remove(model: string, name: string): Promise<void> {
    const entry = this.data.byModel[model];
    if (!entry) return;
    entry.results = { ...entry.results, datasets: entry.results.datasets.filter((d) => d.name !== name) };
    entry.hidden = entry.hidden.filter((h) => h !== name);
    if (entry.colors) delete entry.colors[name];
    if (entry.selection === name) entry.selection = undefined;
    if (entry.origins) delete entry.origins[name];
    await this.save();
  }

  async setComparison(model: string, request: ComparisonRequest): Promise<void> {
    const entry = this.data.byModel[model];
    if (!entry) return;
    entry.comparison = request;
    await this.save();
  }

  async clear(model: string): Promise<void> {
    delete this.data.byModel[model];
    await this.save();
  }

  private async save(): Promise<void> {
    await this.storage.update(STORAGE_KEY, this.data);
  }
}

/** Gives every dataset without a colour the lowest index no other dataset of the entry holds. */
function assignColors(entry: ModelResults): void {
  const names = new Set(entry.results.datasets.map((d) => d.name));
  const colors: Record<string, number> = {};
  for (const [name, index] of Object.entries(entry.colors ?? {})) if (names.has(name) && Number.isInteger(index) && index >= 0) colors[name] = index;
  const used = new Set(Object.values(colors));
  let next = 0;
  for (const d of entry.results.datasets) {
    if (d.name in colors) continue;
    while (used.has(next)) next++;
    colors[d.name] = next;
    used.add(next);
  }
  entry.colors = colors;
}

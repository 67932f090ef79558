/**
 * Results that survive a window reload: kept in workspace storage, per model, versioned.
 * Changing model switches to that model's results; nothing from two models is ever merged.
 */
import type { ProfileResults, TokenProfile } from '../core/results';
import { mergeDataset } from '../core/results/build';
import type { DatasetResult } from '../core/results';
import { upgradeResults } from '../core/results/read';

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
  comparison?: { a: string; b: string };
  heatmap?: { label: string; profile: TokenProfile };
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
    for (const entry of Object.values(this.data.byModel)) entry.results = upgradeResults(entry.results);
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
    this.data.byModel[model] = { ...(sameFile ? existing : {}), results, hidden: sameFile ? existing.hidden : [] };
    await this.save();
    return results;
  }

  async setHeatmap(model: string, heatmap: ModelResults['heatmap']): Promise<void> {
    const entry = this.data.byModel[model];
    if (!entry) return;
    entry.heatmap = heatmap;
    await this.save();
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
    if (entry.comparison) entry.comparison = { a: entry.comparison.a === from ? to : entry.comparison.a, b: entry.comparison.b === from ? to : entry.comparison.b };
    await this.save();
  }

  async remove(model: string, name: string): Promise<void> {
    const entry = this.data.byModel[model];
    if (!entry) return;
    entry.results = { ...entry.results, datasets: entry.results.datasets.filter((d) => d.name !== name) };
    entry.hidden = entry.hidden.filter((h) => h !== name);
    await this.save();
  }

  async setComparison(model: string, a: string, b: string): Promise<void> {
    const entry = this.data.byModel[model];
    if (!entry) return;
    entry.comparison = { a, b };
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

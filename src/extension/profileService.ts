/**
 * What the commands do, without the VS Code API: open the model in the engine, profile folders and
 * selections with progress and cancellation, keep results per model, and describe the state the
 * views show. The UI is reached only through `HostUi`, so unit tests stub it.
 */
import type { ProfileOptions } from '../core/api';
import { describeDownload } from '../core/downloadProgress';
import { RESULTS_SCHEMA, type DatasetResult, type ProfileResults, type ProfileSettings, type TextRecord } from '../core/results';
import { datasetFromRecords } from '../core/stats/fromRecords';
import type { OpenedModel } from '../shared/engineProtocol';
import { lensDatasetEntryOf, type LensDatasetEntry, type LensDatasetsView } from '../shared/lensDatasets';
import type { LensSelection } from '../shared/lensSelection';
import type { PatchSelection } from '../shared/patchSelection';
import { lensDatasetsView } from './lensDatasetState';
import type { TextDiffSelection } from '../shared/textDiffSelection';
import { PROTOCOL_VERSION, type ModelStatus, type RunProgress, type ViewState } from '../shared/protocol';
import { CancelledError, type EngineClient } from './engineClient';
import { ComparisonCache } from './comparisonState';
import { describeIdleModel } from './modelCatalog';
import type { ResultsStore, TextOrigin } from './resultsStore';
import { describeSpec, modelKey, type Settings } from './settings';

/** How often the views get a dataset rebuilt from the texts finished so far while a folder is profiled. */
export const LIVE_RESULTS_EVERY_MS = 2000;

export interface ProgressSink {
  /** `increment` is a percentage of the whole task, as vscode.Progress expects. */
  report(message: string, increment?: number): void;
}

export interface HostUi {
  withProgress<T>(title: string, cancellable: boolean, task: (progress: ProgressSink, signal: AbortSignal) => Promise<T>): Promise<T>;
  info(message: string): void;
  error(message: string): void;
  /** A line for the log (the "Layer Profiler" Output channel): timings, what was skipped, errors. */
  log(line: string): void;
}

/** A dataset run that stopped before the end (the engine died); the texts it finished were kept. */
export class RunInterruptedError extends Error {
  constructor(
    message: string,
    readonly kept: number,
  ) {
    super(message);
  }
}

/** The dataset a run is profiling, rebuilt from its finished texts for the views. */
interface LiveRun {
  key: string;
  base: Omit<ProfileResults, 'datasets'>;
  name: string;
  source: string;
  records: TextRecord[];
  shown?: { dataset: DatasetResult; at: number; count: number };
}

export class BusyError extends Error {
  constructor() {
    super('A profiling run is already in progress. Cancel it (Layer Profiler: Cancel) or wait for it to finish.');
  }
}

export class ProfileService {
  private opened: { key: string; generation: number; model: OpenedModel } | undefined;
  private status: ModelStatus;
  private progress: RunProgress | undefined;
  private current: AbortController | undefined;
  private live: LiveRun | undefined;
  private readonly comparisons = new ComparisonCache();
  /** The lens datasets' view, rebuilt only when they or the comparison asked for change. */
  private lensView: { datasets: LensDatasetEntry[] | undefined; key: string; view: LensDatasetsView } | undefined;

  constructor(
    private readonly engine: EngineClient,
    private readonly store: ResultsStore,
    private readonly ui: HostUi,
    private readonly settings: () => Settings,
    private readonly changed: () => void,
  ) {
    this.status = this.idleStatus();
  }

  private idleStatus(): ModelStatus {
    const s = this.settings();
    const message = describeIdleModel(s.model, s.cacheDir);
    return { id: describeSpec(s.model), state: 'idle', ...(message ? { message } : {}) };
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  get openedModel(): OpenedModel | undefined {
    return this.opened?.model;
  }

  /** The model the settings name changed: show its stored results, load lazily on the next run. */
  settingsChanged(): void {
    const key = modelKey(this.settings().model);
    if (this.opened?.key !== key) this.status = this.idleStatus();
    this.changed();
  }

  engineCrashed(message: string): void {
    this.opened = undefined;
    this.status = { ...this.status, state: 'error', message };
    this.progress = undefined;
    this.changed();
  }

  viewState(): ViewState {
    const key = modelKey(this.settings().model);
    const entry = this.store.get(key);
    const results = this.withLiveDataset(key, entry?.results);
    return {
      version: PROTOCOL_VERSION,
      model: this.progress && this.status.state !== 'loading' ? { ...this.status, activity: 'Profiling…' } : this.status,
      ...(results ? { results } : {}),
      hidden: entry?.hidden ?? [],
      ...(entry?.lensDatasets?.length ? { lensDatasets: this.lensDatasetsOf(entry) } : {}),
      ...(entry?.patch ? { patch: entry.patch } : {}),
      ...(entry ? { heatmap: entry.heatmap, lens: entry.lens, textDiff: entry.textDiff, comparison: entry.comparison, colors: entry.colors, selection: entry.selection, withOrigin: Object.keys(entry.origins ?? {}) } : {}),
      ...(results && entry ? this.comparisons.get(results, entry.hidden, entry.comparison) : {}),
      ...(this.progress ? { progress: this.progress } : {}),
    };
  }

  private lensDatasetsOf(entry: NonNullable<ReturnType<ResultsStore['get']>>): LensDatasetsView {
    const key = JSON.stringify([entry.lensComparison ?? null, entry.colors ?? null]);
    const cached = this.lensView;
    if (cached && cached.datasets === entry.lensDatasets && cached.key === key) return cached.view;
    // A lens dataset named like a profiled one takes its colour; the others follow after the profile's colours.
    const used = Object.values(entry.colors ?? {});
    const next = used.length ? Math.max(...used) + 1 : 0;
    const view = lensDatasetsView(entry.lensDatasets ?? [], (name, i) => entry.colors?.[name] ?? next + i, entry.lensComparison);
    this.lensView = { datasets: entry.lensDatasets, key, view };
    return view;
  }

  /**
   * The stored results with the dataset being profiled as far as it has got (marked partial), so
   * charts grow while a folder is profiled; rebuilt at most every LIVE_RESULTS_EVERY_MS.
   */
  private withLiveDataset(key: string, stored: ProfileResults | undefined): ProfileResults | undefined {
    const live = this.live;
    if (!live || live.key !== key || live.records.length === 0) return stored;
    const now = Date.now();
    if (!live.shown || (live.shown.count !== live.records.length && now - live.shown.at >= LIVE_RESULTS_EVERY_MS)) {
      live.shown = { dataset: datasetFromRecords(live.name, live.records, { source: live.source, partial: true }), at: now, count: live.records.length };
    }
    const sameModel = stored && stored.model.sha256 === live.base.model.sha256;
    const others = sameModel ? stored.datasets.filter((d) => d.name !== live.name) : [];
    const at = sameModel ? stored.datasets.findIndex((d) => d.name === live.name) : -1;
    const datasets = [...others];
    datasets.splice(at < 0 ? datasets.length : at, 0, live.shown.dataset);
    return { ...(sameModel ? stored : live.base), datasets };
  }

  /**
   * The layers of the configured model: at once when it is loaded, else after loading it (never
   * while a run is using the engine, which may be holding another model).
   */
  async layers(): Promise<OpenedModel['inspect']> {
    return (this.loaded() ?? (await this.exclusive(undefined, (signal) => this.ensureModel(signal)))).inspect;
  }

  private loaded(): OpenedModel | undefined {
    const key = modelKey(this.settings().model);
    return this.opened && this.opened.key === key && this.opened.generation === this.engine.generation && this.engine.running ? this.opened.model : undefined;
  }

  /** Opens the configured model in the engine (downloading it first if needed). */
  private async ensureModel(signal?: AbortSignal): Promise<OpenedModel> {
    const s = this.settings();
    const key = modelKey(s.model);
    const loaded = this.loaded();
    if (loaded) return loaded;
    this.status = { id: describeSpec(s.model), state: 'loading' };
    this.changed();
    const started = Date.now();
    try {
      const model = await this.ui.withProgress(`Layer Profiler: loading ${describeSpec(s.model)}`, true, (progress, cancel) => {
        let lastFile = '';
        let lastFraction = 0;
        const both = anySignal(signal, cancel);
        return this.engine.call(
          'open',
          { spec: s.model, options: { cacheDir: s.cacheDir, hubUrl: s.hubUrl, threads: s.threads || undefined, device: s.device } },
          {
            signal: both,
            onDownload: (p) => {
              if (p.file !== lastFile) (lastFile = p.file), (lastFraction = 0);
              const fraction = p.bytesTotal ? p.bytesDone / p.bytesTotal : 0;
              progress.report(describeDownload(p), Math.max(0, (fraction - lastFraction) * 100));
              lastFraction = fraction;
            },
          },
        );
      });
      this.opened = { key, generation: this.engine.generation, model };
      this.status = { id: describeSpec(s.model), dtype: model.model.dtype, numLayers: model.model.numLayers, state: 'ready' };
      this.ui.log(`Loaded ${describeSpec(s.model)} (${model.model.file}, ${model.model.numLayers} layers, ${model.model.dtype}) in ${seconds(started)}.`);
      return model;
    } catch (err) {
      this.status = { id: describeSpec(s.model), state: 'error', message: (err as Error).message };
      this.ui.log(`Loading ${describeSpec(s.model)} failed after ${seconds(started)}: ${(err as Error).message}`);
      throw err;
    } finally {
      this.changed();
    }
  }

  /**
   * Profiles a folder (or file) as the dataset `name`. Texts arrive from the engine as they finish:
   * the views show them while the run goes, and a cancelled run, or one whose engine died, keeps
   * every finished text, marked partial.
   */
  async profileFolder(folder: string, name: string): Promise<DatasetResult> {
    const s = this.settings();
    const key = modelKey(s.model);
    return this.exclusive(`Profiling ${name}`, async (signal) => {
      const opened = await this.ensureModel(signal);
      const options: ProfileOptions = profileOptions(s);
      const used = await this.engine.call('effectiveSettings', { options });
      const base = resultsBase(opened, { ...used, include: s.include, exclude: s.exclude, maxFileBytes: s.maxFileBytes });
      const live: LiveRun = { key, base, name, source: folder, records: [] };
      this.live = live;
      const started = Date.now();
      let dataset: DatasetResult;
      try {
        dataset = await this.ui.withProgress(`Layer Profiler: profiling ${name}`, true, (progress, cancel) => {
          let lastFraction = 0;
          return this.engine.call(
            'profileDataset',
            { input: { name, paths: [folder], include: s.include, exclude: s.exclude, maxFileBytes: s.maxFileBytes }, options },
            {
              signal: anySignal(signal, cancel),
              onText: (record) => {
                live.records.push(record);
                // The first text replaces the empty state at once; later ones come with progress.
                if (live.records.length === 1) this.changed();
              },
              onProgress: (p) => {
                const fraction = p.textsTotal ? p.textsDone / p.textsTotal : 0;
                const secondsLeft = p.textsDone > 0 && p.textsTotal > p.textsDone ? Math.round((p.elapsedMs / p.textsDone) * (p.textsTotal - p.textsDone) / 1000) : undefined;
                this.progress = { title: `Profiling ${name}`, textsDone: p.textsDone, textsTotal: p.textsTotal, tokensDone: p.tokensDone, ...(secondsLeft !== undefined ? { secondsLeft } : {}) };
                progress.report(`${p.textsDone}/${p.textsTotal} files, ${p.tokensDone} tokens${secondsLeft !== undefined ? `, about ${secondsLeft} s left` : ''}`, Math.max(0, (fraction - lastFraction) * 100));
                lastFraction = fraction;
                this.changed();
              },
            },
          );
        });
      } catch (err) {
        return await this.keepFinished(err, live, signal);
      } finally {
        this.live = undefined;
      }
      await this.store.putDataset(key, base, dataset);
      this.ui.log(`Profiled '${name}' (${folder}): ${dataset.texts} texts, ${dataset.tokens} tokens in ${seconds(started)}${dataset.partial ? ', cancelled' : ''}.`);
      for (const skip of dataset.skipped) this.ui.log(`  skipped ${skip.path}: ${skip.reason}`);
      if (dataset.partial) this.ui.info(`Profiling of '${name}' was cancelled: the results keep the ${dataset.texts} files finished before that.`);
      else if (dataset.texts === 0) this.ui.info(`No text files were profiled in '${name}'${dataset.skipped.length ? ` (${dataset.skipped.length} skipped: ${dataset.skipped[0].reason}${dataset.skipped.length > 1 ? ', …' : ''})` : ''}.`);
      return dataset;
    });
  }

  /**
   * A dataset run that ended in an error (the engine died, or it was cancelled and could not answer):
   * stores the texts that had finished, marked partial, and says how many were kept.
   */
  private async keepFinished(err: unknown, live: LiveRun, signal: AbortSignal): Promise<DatasetResult> {
    const kept = live.records.length;
    const cancelled = err instanceof CancelledError || signal.aborted;
    this.ui.log(`Profiling '${live.name}' ${cancelled ? 'was cancelled' : `failed: ${(err as Error).message}`}; ${kept} texts had finished.`);
    if (kept === 0) throw err;
    const dataset = datasetFromRecords(live.name, live.records, { source: live.source, partial: true });
    await this.store.putDataset(live.key, live.base, dataset);
    const files = `${kept} file${kept === 1 ? '' : 's'}`;
    if (cancelled) {
      this.ui.info(`Profiling of '${live.name}' was cancelled: the results keep the ${files} finished before that.`);
      return dataset;
    }
    throw new RunInterruptedError(`${(err as Error).message} The ${files} finished before that are kept in '${live.name}', marked partial.`, kept);
  }

  /** Profiles an editor selection into the selection slot (replacing the last one unless kept), plus its token × layer heatmap. */
  async profileText(label: string, text: string, origin?: TextOrigin): Promise<DatasetResult> {
    const s = this.settings();
    return this.exclusive(`Profiling ${label}`, async (signal) => {
      const opened = await this.ensureModel(signal);
      const started = Date.now();
      const { dataset, tokens } = await this.ui.withProgress(`Layer Profiler: profiling ${label}`, true, (_p, cancel) =>
        this.engine.call('profileText', { label, text, options: profileOptions(s) }, { signal: anySignal(signal, cancel) }),
      );
      const key = modelKey(s.model);
      const used = await this.engine.call('effectiveSettings', { options: profileOptions(s) });
      await this.store.putSelection(key, resultsBase(opened, { ...used, maxFileBytes: s.maxFileBytes }), dataset, origin);
      const shown = tokens.totalTokens ? `${label} (first ${tokens.tokens.length} of ${tokens.totalTokens} tokens)` : label;
      await this.store.setHeatmap(key, { label: shown, profile: tokens });
      this.ui.log(`Profiled ${label}: ${dataset.tokens} tokens in ${seconds(started)}.`);
      return dataset;
    });
  }

  /** Reads an editor selection through the logit lens; the panel shows its token × layer grid. */
  async lensText(label: string, text: string): Promise<LensSelection> {
    const s = this.settings();
    return this.exclusive(`Logit lens of ${label}`, async (signal) => {
      const opened = await this.ensureModel(signal);
      const started = Date.now();
      const options = passOptions(s);
      const lens = await this.ui.withProgress(`Layer Profiler: logit lens of ${label}`, true, (_p, cancel) => this.engine.call('lensText', { label, text, options }, { signal: anySignal(signal, cancel) }));
      const used = await this.engine.call('effectiveSettings', { options: profileOptions(s) });
      await this.store.setLens(modelKey(s.model), resultsBase(opened, { ...used, maxFileBytes: s.maxFileBytes }), lens);
      this.ui.log(`Logit lens of ${label}: ${lens.totalTokens ?? lens.tokens.length} tokens, ${lens.layers.length} points in ${seconds(started)}${lens.totalTokens ? ` (the first ${lens.tokens.length} kept for the grid)` : ''}.`);
      return lens;
    });
  }

  /** Reads a folder (or file) through the logit lens as the lens dataset `name`; the panel charts and compares lens datasets. */
  async lensFolder(folder: string, name: string): Promise<LensDatasetEntry> {
    const s = this.settings();
    return this.exclusive(`Logit lens of ${name}`, async (signal) => {
      const opened = await this.ensureModel(signal);
      const started = Date.now();
      const dataset = await this.ui.withProgress(`Layer Profiler: logit lens of ${name}`, true, (progress, cancel) => {
        let lastFraction = 0;
        return this.engine.call(
          'lensDataset',
          { input: { name, paths: [folder], include: s.include, exclude: s.exclude, maxFileBytes: s.maxFileBytes }, options: passOptions(s) },
          {
            signal: anySignal(signal, cancel),
            onProgress: (p) => {
              const fraction = p.textsTotal ? p.textsDone / p.textsTotal : 0;
              this.progress = { title: `Logit lens of ${name}`, textsDone: p.textsDone, textsTotal: p.textsTotal, tokensDone: p.tokensDone };
              progress.report(`${p.textsDone}/${p.textsTotal} files, ${p.tokensDone} tokens`, Math.max(0, (fraction - lastFraction) * 100));
              lastFraction = fraction;
              this.changed();
            },
          },
        );
      });
      if (dataset.texts === 0) {
        this.ui.info(`No text files were read through the lens in '${name}'${dataset.skipped.length ? ` (${dataset.skipped.length} skipped: ${dataset.skipped[0].reason})` : ''}.`);
        return lensDatasetEntryOf(dataset, folder);
      }
      const entry = lensDatasetEntryOf(dataset, folder);
      const used = await this.engine.call('effectiveSettings', { options: profileOptions(s) });
      await this.store.putLensDataset(modelKey(s.model), resultsBase(opened, { ...used, maxFileBytes: s.maxFileBytes }), entry);
      this.ui.log(`Logit lens of '${name}' (${folder}): ${dataset.texts} texts, ${dataset.tokens} tokens in ${seconds(started)}${dataset.partial ? ', cancelled' : ''}.`);
      for (const skip of dataset.skipped) this.ui.log(`  skipped ${skip.path}: ${skip.reason}`);
      if (dataset.partial) this.ui.info(`The logit lens of '${name}' was cancelled: the results keep the ${dataset.texts} files finished before that.`);
      return entry;
    });
  }

  /** Activation patching: the corrupted text run with each layer's state at each position from the clean one; the panel shows the grids. */
  async patchTexts(clean: { label: string; text: string }, corrupted: { label: string; text: string }, named?: { target: string; foil: string }): Promise<PatchSelection> {
    const s = this.settings();
    const what = `${clean.label} into ${corrupted.label}`;
    return this.exclusive(`Patching ${what}`, async (signal) => {
      const opened = await this.ensureModel(signal);
      const started = Date.now();
      const patch = await this.ui.withProgress(`Layer Profiler: activation patching of ${what}`, true, (progress, cancel) => {
        let lastFraction = 0;
        return this.engine.call('patchTexts', { clean, corrupted, ...(named ?? {}), batchSize: Math.max(8, s.batchSize) }, {
          signal: anySignal(signal, cancel),
          onProgress: (p) => {
            const fraction = p.textsTotal ? p.textsDone / p.textsTotal : 0;
            this.progress = { title: `Patching ${what}`, textsDone: p.textsDone, textsTotal: p.textsTotal, tokensDone: 0 };
            progress.report(`${p.textsDone}/${p.textsTotal} patched runs`, Math.max(0, (fraction - lastFraction) * 100));
            lastFraction = fraction;
            this.changed();
          },
        });
      });
      const used = await this.engine.call('effectiveSettings', { options: profileOptions(s) });
      await this.store.setPatch(modelKey(s.model), resultsBase(opened, { ...used, maxFileBytes: s.maxFileBytes }), patch);
      const runs = patch.grids.reduce((n, g) => n + g.layers.length, 0) * patch.corrupted.ids.length;
      this.ui.log(`Patched ${what}: ${patch.grids.map((g) => g.point).join(', ')}, ${runs} patched runs of ${patch.corrupted.ids.length} tokens in ${seconds(started)}.${patch.notes.length ? ` ${patch.notes.join('; ')}.` : ''}`);
      return patch;
    });
  }

  /** Compares two texts at every residual point; the panel shows where their hidden states part. */
  async diffTexts(a: { label: string; text: string }, b: { label: string; text: string }): Promise<TextDiffSelection> {
    const s = this.settings();
    const what = `${a.label} with ${b.label}`;
    return this.exclusive(`Comparing ${what}`, async (signal) => {
      const opened = await this.ensureModel(signal);
      const started = Date.now();
      const diff = await this.ui.withProgress(`Layer Profiler: comparing ${what}`, true, (_p, cancel) => this.engine.call('diffTexts', { a, b, options: { maxTokens: s.maxTokens } }, { signal: anySignal(signal, cancel) }));
      const used = await this.engine.call('effectiveSettings', { options: profileOptions(s) });
      await this.store.setTextDiff(modelKey(s.model), resultsBase(opened, { ...used, maxFileBytes: s.maxFileBytes }), diff);
      this.ui.log(`Compared ${what}: ${diff.pairs.length} aligned token pairs (${diff.alignment}), ${diff.onlyA.length} only in A, ${diff.onlyB.length} only in B, ${diff.layers.length} points in ${seconds(started)}.`);
      return diff;
    });
  }

  cancel(): boolean {
    if (!this.current) return false;
    this.current.abort();
    return true;
  }

  /** Runs `task` alone; `title` names a run the views show as in progress from its start (model loading included). */
  private async exclusive<T>(title: string | undefined, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.current) throw new BusyError();
    const controller = new AbortController();
    this.current = controller;
    if (title) {
      this.progress = { title, textsDone: 0, textsTotal: 0, tokensDone: 0 };
      this.changed();
    }
    try {
      return await task(controller.signal);
    } catch (err) {
      if (controller.signal.aborted && !(err instanceof CancelledError)) throw new CancelledError();
      if (!(err instanceof CancelledError)) this.ui.log(`Error: ${(err as Error).message}`);
      throw err;
    } finally {
      this.current = undefined;
      this.progress = undefined;
      this.changed();
    }
  }
}

/** Everything of a results document but its datasets, for the model the engine has open. */
function profileOptions(s: Settings): ProfileOptions {
  return { ...passOptions(s), skipFirstToken: s.skipFirstToken };
}

/** How texts are cut into windows and windows into passes, from the settings. */
function passOptions(s: Settings): Pick<ProfileOptions, 'maxTokens' | 'batchSize' | 'maxBatchTokens'> {
  return { maxTokens: s.maxTokens, batchSize: s.batchSize, maxBatchTokens: s.maxBatchTokens };
}

function resultsBase(opened: OpenedModel, settings: ProfileSettings): Omit<ProfileResults, 'datasets'> {
  return { schema: RESULTS_SCHEMA, model: opened.model, runtime: opened.runtime, settings, provenance: { createdAt: new Date().toISOString() } };
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const controller = new AbortController();
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) controller.abort();
    else s.addEventListener('abort', () => controller.abort(), { once: true });
  }
  return controller.signal;
}

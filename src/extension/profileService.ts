/**
 * What the commands do, without the VS Code API: open the model in the engine, profile folders and
 * selections with progress and cancellation, keep results per model, and describe the state the
 * views show. The UI is reached only through `HostUi`, so unit tests stub it.
 */
import type { ProfileOptions } from '../core/api';
import { describeDownload } from '../core/downloadProgress';
import { RESULTS_SCHEMA, type DatasetResult, type ProfileResults, type ProfileSettings } from '../core/results';
import type { OpenedModel } from '../shared/engineProtocol';
import { PROTOCOL_VERSION, type ModelStatus, type RunProgress, type ViewState } from '../shared/protocol';
import { CancelledError, type EngineClient } from './engineClient';
import { ComparisonCache } from './comparisonState';
import type { ResultsStore } from './resultsStore';
import { describeSpec, modelKey, type Settings } from './settings';

export interface ProgressSink {
  /** `increment` is a percentage of the whole task, as vscode.Progress expects. */
  report(message: string, increment?: number): void;
}

export interface HostUi {
  withProgress<T>(title: string, cancellable: boolean, task: (progress: ProgressSink, signal: AbortSignal) => Promise<T>): Promise<T>;
  info(message: string): void;
  error(message: string): void;
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
  private readonly comparisons = new ComparisonCache();

  constructor(
    private readonly engine: EngineClient,
    private readonly store: ResultsStore,
    private readonly ui: HostUi,
    private readonly settings: () => Settings,
    private readonly changed: () => void,
  ) {
    this.status = { id: describeSpec(settings().model), state: 'idle' };
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
    if (this.opened?.key !== key) this.status = { id: describeSpec(this.settings().model), state: 'idle' };
    this.changed();
  }

  engineCrashed(message: string): void {
    this.opened = undefined;
    this.status = { ...this.status, state: 'error', message };
    this.progress = undefined;
    this.changed();
  }

  viewState(): ViewState {
    const entry = this.store.get(modelKey(this.settings().model));
    return {
      version: PROTOCOL_VERSION,
      model: this.status,
      ...(entry
        ? {
            results: entry.results,
            hidden: entry.hidden,
            heatmap: entry.heatmap,
            comparison: entry.comparison,
            colors: entry.colors,
            selection: entry.selection,
            ...this.comparisons.get(entry.results, entry.hidden, entry.comparison),
          }
        : { hidden: [] }),
      ...(this.progress ? { progress: this.progress } : {}),
    };
  }

  /**
   * The layers of the configured model: at once when it is loaded, else after loading it (never
   * while a run is using the engine, which may be holding another model).
   */
  async layers(): Promise<OpenedModel['inspect']> {
    return (this.loaded() ?? (await this.exclusive((signal) => this.ensureModel(signal)))).inspect;
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
    try {
      const model = await this.ui.withProgress(`Layer Profiler: loading ${describeSpec(s.model)}`, true, (progress, cancel) => {
        let lastFile = '';
        let lastFraction = 0;
        const both = anySignal(signal, cancel);
        return this.engine.call(
          'open',
          { spec: s.model, options: { cacheDir: s.cacheDir, hubUrl: s.hubUrl, threads: s.threads || undefined } },
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
      return model;
    } catch (err) {
      this.status = { id: describeSpec(s.model), state: 'error', message: (err as Error).message };
      throw err;
    } finally {
      this.changed();
    }
  }

  /** Profiles a folder (or file) as the dataset `name`; a cancelled run keeps what it finished. */
  async profileFolder(folder: string, name: string): Promise<DatasetResult> {
    const s = this.settings();
    return this.exclusive(async (signal) => {
      const opened = await this.ensureModel(signal);
      const options: ProfileOptions = profileOptions(s);
      const dataset = await this.ui.withProgress(`Layer Profiler: profiling ${name}`, true, (progress, cancel) => {
        let lastFraction = 0;
        return this.engine.call(
          'profileDataset',
          { input: { name, paths: [folder], include: s.include, exclude: s.exclude, maxFileBytes: s.maxFileBytes }, options },
          {
            signal: anySignal(signal, cancel),
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
      const used = await this.engine.call('effectiveSettings', { options });
      await this.store.putDataset(modelKey(s.model), resultsBase(opened, { ...used, include: s.include, exclude: s.exclude, maxFileBytes: s.maxFileBytes }), dataset);
      if (dataset.partial) this.ui.info(`Profiling of '${name}' was cancelled: the results keep the ${dataset.texts} files finished before that.`);
      else if (dataset.texts === 0) this.ui.info(`No text files were profiled in '${name}'${dataset.skipped.length ? ` (${dataset.skipped.length} skipped: ${dataset.skipped[0].reason}${dataset.skipped.length > 1 ? ', …' : ''})` : ''}.`);
      return dataset;
    });
  }

  /** Profiles an editor selection into the selection slot (replacing the last one unless kept), plus its token × layer heatmap. */
  async profileText(label: string, text: string): Promise<DatasetResult> {
    const s = this.settings();
    return this.exclusive(async (signal) => {
      const opened = await this.ensureModel(signal);
      const { dataset, tokens } = await this.ui.withProgress(`Layer Profiler: profiling ${label}`, true, (_p, cancel) =>
        this.engine.call('profileText', { label, text, options: profileOptions(s) }, { signal: anySignal(signal, cancel) }),
      );
      const key = modelKey(s.model);
      const used = await this.engine.call('effectiveSettings', { options: profileOptions(s) });
      await this.store.putSelection(key, resultsBase(opened, { ...used, maxFileBytes: s.maxFileBytes }), dataset);
      const shown = tokens.totalTokens ? `${label} (first ${tokens.tokens.length} of ${tokens.totalTokens} tokens)` : label;
      await this.store.setHeatmap(key, { label: shown, profile: tokens });
      return dataset;
    });
  }

  cancel(): boolean {
    if (!this.current) return false;
    this.current.abort();
    return true;
  }

  private async exclusive<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.current) throw new BusyError();
    const controller = new AbortController();
    this.current = controller;
    try {
      return await task(controller.signal);
    } catch (err) {
      if (controller.signal.aborted && !(err instanceof CancelledError)) throw new CancelledError();
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
  return { maxTokens: s.maxTokens, batchSize: s.batchSize, skipFirstToken: s.skipFirstToken };
}

function resultsBase(opened: OpenedModel, settings: ProfileSettings): Omit<ProfileResults, 'datasets'> {
  return { schema: RESULTS_SCHEMA, model: opened.model, runtime: opened.runtime, settings, provenance: { createdAt: new Date().toISOString() } };
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

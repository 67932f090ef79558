/**
 * Serves engine requests: one loaded model kept between runs, each run cancellable by id.
 * Transport-agnostic (the child process wires it to IPC; tests call it directly).
 */
import type { DatasetResult } from '../core/results';
import { openRecordCache } from '../core/cache/cachedRun';
import { defaultRecordCacheDir, type RecordCache } from '../core/cache/recordCache';
import type { DatasetInput, ProfileOptions } from '../core/api';
import type { OpenOptions } from '../core/modelLoading';
import { datasetPasses } from '../core/workload';
import { walkedOnce } from '../core/dataset/sources';
import { inspectModel, LayerProfiler } from '../core/profiler';
import { datasetOfOneText } from '../core/results/build';
import { sha256Text } from '../core/hash';
import { throttled } from '../core/downloadProgress';
import { DEFAULT_LENS_K, LogitLens } from '../core/lens/logitLens';
import { tokenOffsets } from '../core/model/tokenOffsets';
import type { EngineLoadOptions, EngineRequest, EngineToHost, HostToEngine, OpenedModel } from '../shared/engineProtocol';
import type { ModelSpec } from '../core/api';
import { lensSelectionOf, type LensSelection } from '../shared/lensSelection';
import { TextDiff } from '../core/diff/textDiff';
import { ActivationPatching } from '../core/patch/activationPatching';
import type { PatchSelection } from '../shared/patchSelection';
import { textDiffSelectionOf, type TextDiffSelection } from '../shared/textDiffSelection';

/**
 * Forward passes the engine opens a model for: an editor session starts with a selection or a
 * file, so the session opens without prepacking its weights (runtime/prepack.ts), several times
 * faster for float weights; a dataset long enough to repay prepacking reopens it prepacked.
 */
const INTERACTIVE_PASSES = 1;

export class EngineServer {
  private profiler: LayerProfiler | undefined;
  private profilerKey: string | undefined;
  /** What the profiler was opened with: the lens opens the same model, lazily, with its own session. */
  private opened: { spec: ModelSpec; options: EngineLoadOptions & Pick<OpenOptions, 'expectedPasses'> } | undefined;
  private lens: { k: number; lens: LogitLens } | undefined;
  private diff: TextDiff | undefined;
  private patching: ActivationPatching | undefined;
  private readonly running = new Map<number, AbortController>();

  constructor(private readonly send: (m: EngineToHost) => void) {}

  handle(message: HostToEngine): void {
    if (message.kind === 'cancel') {
      this.running.get(message.id)?.abort();
      return;
    }
    const controller = new AbortController();
    this.running.set(message.id, controller);
    this.dispatch(message, controller.signal)
      .then((result) => this.send({ kind: 'result', id: message.id, result }))
      .catch((err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        const code = (e as { code?: unknown }).code;
        this.send({ kind: 'error', id: message.id, error: { name: e.name === 'Error' ? e.constructor.name : e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) } });
      })
      .finally(() => this.running.delete(message.id));
  }

  /** Whether the open profile and lens sessions hold their weights prepacked (undefined: not open). */
  get weightsPrepacked(): { profile?: boolean; lens?: boolean } {
    return { profile: this.profiler?.session.weightsPrepacked, lens: this.lens?.lens.session.weightsPrepacked };
  }

  get busy(): boolean {
    return this.running.size > 0;
  }

  private async dispatch(req: EngineRequest, signal: AbortSignal): Promise<unknown> {
    switch (req.method) {
      case 'open': {
        const { spec, options: asked } = req.params as EngineRequest<'open'>['params'];
        const key = JSON.stringify({ spec, options: asked });
        if (!this.profiler || this.profilerKey !== key) {
          await this.releaseModel();
          const options = { ...asked, expectedPasses: INTERACTIVE_PASSES };
          const report = throttled(250, (progress) => this.send({ kind: 'download', id: req.id, progress }));
          this.profiler = await LayerProfiler.open(spec, { ...options, signal, onDownloadProgress: report });
          this.profilerKey = key;
          this.opened = { spec, options };
        }
        const opened: OpenedModel = { inspect: this.profiler.inspect(), model: this.profiler.modelInfo(), runtime: this.profiler.runtimeInfo() };
        return opened;
      }
      case 'inspect': {
        const { spec, options } = req.params as EngineRequest<'inspect'>['params'];
        return inspectModel(spec, { ...options, signal });
      }
      case 'profileDataset': {
        const { input: asked, options } = req.params as EngineRequest<'profileDataset'>['params'];
        // The pass estimate, the record cache and the run read one walk of the folder, as the CLI's do.
        const input = walkedOnce(asked);
        await this.prepackForDataset(input, options, signal);
        // Texts profiled before with this model and settings come from the record cache the CLI shares.
        const cache = await this.recordCache(options);
        const run = this.requireProfiler().profileDataset(input, options, signal, { text: (record) => this.send({ kind: 'text', id: req.id, record }) }, cache);
        for (;;) {
          const step = await run.next();
          if (step.done) {
            await this.keepFacts(cache, options);
            return step.value;
          }
          this.send({ kind: 'progress', id: req.id, progress: step.value });
        }
      }
      case 'effectiveSettings': {
        const { options } = req.params as EngineRequest<'effectiveSettings'>['params'];
        return this.requireProfiler().effectiveSettings(options);
      }
      case 'profileText': {
        const { label, text, options } = req.params as EngineRequest<'profileText'>['params'];
        const profiler = this.requireProfiler();
        const { stats, tokens } = await profiler.profileText(text, options, signal);
        const dataset: DatasetResult = datasetOfOneText(label, sha256Text(text), stats, profiler.session.substepKinds);
        return { dataset, tokens };
      }
      case 'lensText': {
        const { label, text, options, k } = req.params as EngineRequest<'lensText'>['params'];
        return this.lensText(label, text, options, k ?? DEFAULT_LENS_K, signal);
      }
      case 'lensDataset': {
        const { input: asked, options, k } = req.params as EngineRequest<'lensDataset'>['params'];
        const input = walkedOnce(asked);
        const lens = await this.openLens(k ?? DEFAULT_LENS_K, signal, await datasetPasses([input], options));
        const run = lens.lensDataset(input, options, signal);
        for (;;) {
          const step = await run.next();
          if (step.done) return step.value;
          this.send({ kind: 'progress', id: req.id, progress: step.value });
        }
      }
      case 'patchTexts': {
        const { clean, corrupted, target, foil, batchSize } = req.params as EngineRequest<'patchTexts'>['params'];
        return this.patchTexts(clean, corrupted, target, foil, batchSize, signal, req.id);
      }
      case 'diffTexts': {
        const { a, b, options } = req.params as EngineRequest<'diffTexts'>['params'];
        return this.diffTexts(a, b, options, signal);
      }
    }
  }

  /**
   * The lens of the open model with `k` predictions kept, opened on first use (for a job of
   * `passes` passes where one is given, else as the model was), and reopened with its weights
   * prepacked for a job that repays it.
   */
  private async openLens(k: number, signal: AbortSignal, passes?: number): Promise<LogitLens> {
    this.requireProfiler();
    const opened = this.opened!;
    const repack = passes !== undefined && !!this.lens?.lens.prepackPaysFor(passes);
    if (this.lens?.k !== k || repack) {
      await this.lens?.lens.dispose();
      this.lens = undefined;
      this.lens = { k, lens: await LogitLens.open(opened.spec, { ...opened.options, ...(passes !== undefined ? { expectedPasses: passes } : {}), k, signal }) };
    }
    return this.lens.lens;
  }

  /**
   * Reopens the profiler with its weights prepacked when this dataset's passes repay it (the engine
   * opened it without: INTERACTIVE_PASSES). Once prepacked it stays so, as before this rule; the
   * old session is released first, so the weights are never held twice.
   */
  private async prepackForDataset(input: DatasetInput, options: ProfileOptions, signal: AbortSignal): Promise<void> {
    const passes = await datasetPasses([input], options);
    if (!this.requireProfiler().prepackPaysFor(passes)) return;
    const opened = this.opened!;
    await this.profiler?.dispose();
    this.profiler = undefined;
    try {
      this.profiler = await LayerProfiler.open(opened.spec, { ...opened.options, expectedPasses: passes, signal });
    } catch (err) {
      // Prepacking only saves time: whatever stopped it (memory for the copy, a cancel), the model
      // is open again as it was, for this run and the ones after it (the host opens a model once).
      this.profiler = await LayerProfiler.open(opened.spec, opened.options);
      if (signal.aborted) throw err;
    }
  }

  private async patchTexts(clean: { label: string; text: string }, corrupted: { label: string; text: string }, target: string | undefined, foil: string | undefined, batchSize: number, signal: AbortSignal, id: number): Promise<PatchSelection> {
    this.requireProfiler();
    const opened = this.opened!;
    this.patching ??= await ActivationPatching.open(opened.spec, { ...opened.options, signal });
    const started = Date.now();
    const outcome = await this.patching.patch({
      clean,
      corrupted,
      target,
      foil,
      batchSize,
      signal,
      // Patches count as the run's "texts", so the host's progress line reads "k/n".
      onProgress: (done, total) => this.send({ kind: 'progress', id, progress: { dataset: 'patching', textsDone: done, textsTotal: total, tokensDone: 0, elapsedMs: Date.now() - started } }),
    });
    return { ...outcome, notes: this.patching.notes };
  }

  private async lensText(label: string, text: string, options: EngineRequest<'lensText'>['params']['options'], k: number, signal: AbortSignal): Promise<LensSelection> {
    const lens = await this.openLens(k, signal);
    const read = await lens.lensText(label, text, options, signal);
    const selection = lensSelectionOf(read, k);
    const tokenizer = await lens.getTokenizer();
    return { ...selection, offsets: tokenOffsets(tokenizer.decode, selection.ids, text) };
  }

  private async diffTexts(a: { label: string; text: string }, b: { label: string; text: string }, options: EngineRequest<'diffTexts'>['params']['options'], signal: AbortSignal): Promise<TextDiffSelection> {
    this.requireProfiler();
    const opened = this.opened!;
    this.diff ??= await TextDiff.open(opened.spec, { ...opened.options, signal });
    signal.throwIfAborted();
    const tokenizer = await this.diff.getTokenizer();
    const policy = this.diff.windowPolicy(options);
    const [ea, eb] = [tokenizer.encode(a.text), tokenizer.encode(b.text)];
    // Longer texts run as windows continued through the KV cache; a model without one is refused
    // here, in the extension's words (the core's message names the CLI option).
    for (const [side, e] of [[a, ea], [b, eb]] as const) {
      if (e.ids.length > policy.windowLength && !policy.carriesCache) {
        throw new Error(`${side.label} has ${e.ids.length} tokens, more than the model reads in one pass (${policy.windowLength}), and the model has no KV cache to carry a pass on. Compare shorter selections, or raise the Max Tokens setting (layerProfiler.maxTokens).`);
      }
    }
    const { alignment, points } = await this.diff.compareIds(ea.ids, eb.ids, options);
    return textDiffSelectionOf({ a: { label: a.label, ...ea }, b: { label: b.label, ...eb }, alignment, points });
  }

  /** Releases the model and the analyses opened beside it: one model is kept at a time. */
  private async releaseModel(): Promise<void> {
    await this.lens?.lens.dispose();
    this.lens = undefined;
    await this.diff?.dispose();
    this.diff = undefined;
    await this.patching?.dispose();
    this.patching = undefined;
    await this.profiler?.dispose();
    this.profiler = undefined;
    this.opened = undefined;
  }

  /** The record cache for the loaded model and these settings (none when $LAYER_PROFILER_RECORD_CACHE is off). */
  private async recordCache(options: ProfileOptions): Promise<RecordCache | undefined> {
    const root = defaultRecordCacheDir();
    const profiler = this.requireProfiler();
    if (!root || !this.opened) return undefined;
    return openRecordCache(root, this.opened.spec, this.opened.options, { maxTokens: options.maxTokens, skipFirstToken: !!options.skipFirstToken, graphOptimizationLevel: this.opened.options.graphOptimizationLevel ?? profiler.runtimeInfo().graphOptimizationLevel ?? 'all', threads: profiler.runtimeInfo().threads });
  }

  private async keepFacts(cache: RecordCache | undefined, options: ProfileOptions): Promise<void> {
    if (!cache) return;
    const profiler = this.requireProfiler();
    await cache.putFacts({ model: profiler.modelInfo(), runtime: profiler.runtimeInfo(), settings: profiler.effectiveSettings(options), substepKinds: profiler.session.substepKinds });
    await cache.evict();
  }

  private requireProfiler(): LayerProfiler {
    if (!this.profiler) throw new Error('No model is loaded in the engine; open one first.');
    return this.profiler;
  }

  async dispose(): Promise<void> {
    for (const c of this.running.values()) c.abort();
    await this.releaseModel();
  }
}

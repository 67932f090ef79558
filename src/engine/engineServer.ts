/**
 * Serves engine requests: one loaded model kept between runs, each run cancellable by id.
 * Transport-agnostic (the child process wires it to IPC; tests call it directly).
 */
import type { DatasetResult } from '../core/results';
import { inspectModel, LayerProfiler } from '../core/profiler';
import { datasetOfOneText } from '../core/results/build';
import { sha256Text } from '../core/stats/records';
import { throttled } from '../core/downloadProgress';
import type { EngineRequest, EngineToHost, HostToEngine, OpenedModel } from '../shared/engineProtocol';

export class EngineServer {
  private profiler: LayerProfiler | undefined;
  private profilerKey: string | undefined;
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

  get busy(): boolean {
    return this.running.size > 0;
  }

  private async dispatch(req: EngineRequest, signal: AbortSignal): Promise<unknown> {
    switch (req.method) {
      case 'open': {
        const { spec, options } = req.params as EngineRequest<'open'>['params'];
        const key = JSON.stringify({ spec, options });
        if (!this.profiler || this.profilerKey !== key) {
          await this.profiler?.dispose();
          this.profiler = undefined;
          const report = throttled(250, (progress) => this.send({ kind: 'download', id: req.id, progress }));
          this.profiler = await LayerProfiler.open(spec, { ...options, signal, onDownloadProgress: report });
          this.profilerKey = key;
        }
        const opened: OpenedModel = { inspect: this.profiler.inspect(), model: this.profiler.modelInfo(), runtime: this.profiler.runtimeInfo() };
        return opened;
      }
      case 'inspect': {
        const { spec, options } = req.params as EngineRequest<'inspect'>['params'];
        return inspectModel(spec, { ...options, signal });
      }
      case 'profileDataset': {
        const { input, options } = req.params as EngineRequest<'profileDataset'>['params'];
        const run = this.requireProfiler().profileDataset(input, options, signal, { text: (record) => this.send({ kind: 'text', id: req.id, record }) });
        for (;;) {
          const step = await run.next();
          if (step.done) return step.value;
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
    }
  }

  private requireProfiler(): LayerProfiler {
    if (!this.profiler) throw new Error('No model is loaded in the engine; open one first.');
    return this.profiler;
  }

  async dispose(): Promise<void> {
    for (const c of this.running.values()) c.abort();
    await this.profiler?.dispose();
  }
}

/**
 * The extension's host logic over a real engine process, with the UI stubbed and state kept in
 * memory: what the engine-path tests of the views (lens, text diff, lens folders and patching) set
 * up alike.
 */
import path from 'node:path';
import { EngineClient } from '../../src/extension/engineClient';
import { ProfileService, type HostUi } from '../../src/extension/profileService';
import { ResultsStore } from '../../src/extension/resultsStore';
import { readSettings, type Settings } from '../../src/extension/settings';

/** Runs every task at once without progress UI, and keeps the log lines. */
export class QuietUi implements HostUi {
  logs: string[] = [];
  withProgress<T>(_title: string, _cancellable: boolean, task: (p: { report(m: string): void }, signal: AbortSignal) => Promise<T>): Promise<T> {
    return task({ report: () => undefined }, new AbortController().signal);
  }
  info(): void {}
  error(): void {}
  log(line: string): void {
    this.logs.push(line);
  }
}

export interface EngineService {
  settings: Settings;
  store: ResultsStore;
  engine: EngineClient;
  ui: QuietUi;
  service: ProfileService;
}

/** A profile service on a fresh engine process for the model folder `modelDir`, default settings but `overrides`; stop `engine` when done. */
export function serviceOnEngine(modelDir: string, overrides: Partial<Settings> = {}): EngineService {
  const settings: Settings = { ...readSettings({ get: () => undefined }), model: { kind: 'local', path: modelDir }, ...overrides };
  const data = new Map<string, unknown>();
  const store = new ResultsStore({ get: <T>(k: string) => data.get(k) as T | undefined, update: (k, v) => (data.set(k, v), Promise.resolve()) });
  const engine = new EngineClient({ enginePath: path.resolve(__dirname, '../../src/engine/main.ts'), execArgv: ['--import', 'tsx'], idleTimeoutMs: 60_000 });
  const ui = new QuietUi();
  const service = new ProfileService(engine, store, ui, () => settings, () => undefined);
  return { settings, store, engine, ui, service };
}

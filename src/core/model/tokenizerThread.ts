/**
 * A tokenizer loaded on a worker thread, so that loading it (parsing tokenizer.json and building
 * its tables: about a second for a 150k-token vocabulary) runs beside the model's loading and ONNX
 * Runtime's session creation, which hold the main thread. It turns texts into ids; what needs
 * token strings (a text's token view, the lens) loads the tokenizer on the main thread as before.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { TokenizerError } from './tokenizer';

/** Ids for texts, asynchronously: what a dataset run needs of a tokenizer. */
export interface IdsEncoder {
  readonly vocabSize: number;
  readonly padId: number;
  /** sha256 of the tokenizer.json read. */
  readonly sha256: string;
  ids(text: string): Promise<number[]>;
}

export type ToTokenizerThread = { id: number; text: string };
export type FromTokenizerThread =
  | { kind: 'ready'; vocabSize: number; padId: number; sha256: string }
  | { kind: 'failed'; name: string; message: string }
  | { kind: 'ids'; id: number; ids: Int32Array }
  | { kind: 'error'; id: number; message: string };

/**
 * Starts the worker: the bundle's script (dist/tokenizerWorker.js beside dist/cli.js), else the
 * source through tsx (tests run the sources; a worker does not inherit the test process's loader).
 */
function startWorker(workerData: unknown): Worker {
  const bundled = path.join(__dirname, 'tokenizerWorker.js');
  if (existsSync(bundled)) return new Worker(bundled, { workerData });
  const source = path.join(__dirname, 'tokenizerWorker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, workerData });
}

export class TokenizerThread {
  /** Resolves once the tokenizer is loaded; rejects with the loader's error. */
  readonly ready: Promise<IdsEncoder>;
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (ids: number[]) => void; reject: (err: Error) => void }>();
  private nextId = 0;
  private closed = false;

  /** Starts loading the tokenizer at `location` (a folder holding tokenizer.json, or the file). */
  constructor(location: string) {
    this.worker = startWorker({ location });
    // A process that is done with its work does not wait for this thread.
    this.worker.unref();
    this.ready = new Promise<IdsEncoder>((resolve, reject) => {
      this.worker.on('message', (m: FromTokenizerThread) => {
        if (m.kind === 'ready') resolve({ vocabSize: m.vocabSize, padId: m.padId, sha256: m.sha256, ids: (text) => this.encode(text) });
        else if (m.kind === 'failed') reject(m.name === 'TokenizerError' ? new TokenizerError(m.message) : new Error(m.message));
        else this.settle(m);
      });
      this.worker.on('error', (err) => {
        reject(err);
        this.failAll(err);
      });
      this.worker.on('exit', () => {
        const err = new Error('the tokenizer thread stopped');
        reject(err);
        this.failAll(err);
      });
    });
    // Whoever awaits `ready` hears of a failure; until then it must not count as unhandled.
    this.ready.catch(() => undefined);
  }

  private encode(text: string): Promise<number[]> {
    if (this.closed) return Promise.reject(new Error('the tokenizer thread was closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, text } satisfies ToTokenizerThread);
    });
  }

  private settle(m: Extract<FromTokenizerThread, { id: number }>): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (m.kind === 'ids') w.resolve(Array.from(m.ids));
    else w.reject(new Error(m.message));
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }
}

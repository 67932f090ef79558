/**
 * Host side of the engine RPC: starts the engine child process on demand, keeps it while work
 * comes, stops it after it has been idle a while, and turns a crash into a clear error for the
 * calls in flight (the next call starts a fresh process). No `vscode` import: unit-testable.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { DownloadProgress, ProfileProgress } from '../core/api';
import type { TextRecord } from '../core/results';
import { isEngineToHost, type EngineMethod, type EngineMethods, type EngineRequest, type EngineToHost } from '../shared/engineProtocol';

export class EngineCrashedError extends Error {
  constructor(detail: string) {
    super(`The profiling engine stopped unexpectedly (${detail}). The next command starts a new one.`);
  }
}

/** An error the engine answered with; `code` is the original error's (a Hub download's 'offline', ...). */
export class EngineError extends Error {
  constructor(name: string, message: string, readonly code?: string) {
    super(message);
    this.name = name;
  }
}

export class CancelledError extends Error {
  constructor() {
    super('Cancelled.');
  }
}

export interface CallHandlers {
  onProgress?: (p: ProfileProgress) => void;
  onDownload?: (p: DownloadProgress) => void;
  /** A text of a dataset run, as soon as it is finished. */
  onText?: (record: TextRecord) => void;
  /** Cancels the call; the engine stops between batches and still answers with what it has. */
  signal?: AbortSignal;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  handlers: CallHandlers;
}

export interface EngineClientOptions {
  /** Path of the bundled engine entry (dist/engine.js). */
  enginePath: string;
  idleTimeoutMs: number;
  /** Called when the process dies while it had work or unexpectedly. */
  onCrash?: (message: string) => void;
  /** What the engine writes to stderr, and when it starts and stops (for the Output channel). */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Node flags for the engine process (tests run the TypeScript entry through tsx). */
  execArgv?: string[];
}

export class EngineClient {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private idleTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Bumped every time a process starts; lets callers notice a restart (model must be reopened). */
  generation = 0;

  constructor(private readonly options: EngineClientOptions) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  call<M extends EngineMethod>(method: M, params: Parameters<EngineMethods[M]>[0], handlers: CallHandlers = {}): Promise<ReturnType<EngineMethods[M]>> {
    const child = this.ensureChild();
    this.clearIdle();
    const id = this.nextId++;
    return new Promise<ReturnType<EngineMethods[M]>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, handlers });
      const request: EngineRequest<M> = { kind: 'request', id, method, params };
      child.send(request);
      handlers.signal?.addEventListener('abort', () => this.child?.send({ kind: 'cancel', id }), { once: true });
    });
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    this.stopping = false;
    const child = fork(this.options.enginePath, [], {
      // Under desktop VS Code the host runs Electron; this makes the fork a plain Node process.
      env: { ...process.env, ...this.options.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: this.options.execArgv ?? [],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr = (stderr + text).slice(-2000);
      for (const line of text.split('\n')) if (line.trim()) this.options.log?.(`[engine] ${line.trimEnd()}`);
    });
    child.on('message', (raw: unknown) => {
      if (isEngineToHost(raw)) this.onMessage(raw);
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      const expected = this.stopping && this.pending.size === 0;
      const detail = signal ? `signal ${signal}` : `exit code ${code}`;
      this.options.log?.(`Engine process ${child.pid} ended (${detail})${expected ? '' : ' unexpectedly'}.`);
      const error = new EngineCrashedError(`${detail}${stderr.trim() ? `: ${lastLine(stderr)}` : ''}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      if (!expected) this.options.onCrash?.(error.message);
    });
    this.child = child;
    this.generation++;
    this.options.log?.(`Engine process ${child.pid} started.`);
    return child;
  }

  private onMessage(m: EngineToHost): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    switch (m.kind) {
      case 'progress':
        p.handlers.onProgress?.(m.progress);
        return;
      case 'download':
        p.handlers.onDownload?.(m.progress);
        return;
      case 'text':
        p.handlers.onText?.(m.record);
        return;
      case 'result':
        this.pending.delete(m.id);
        p.resolve(m.result);
        break;
      case 'error': {
        this.pending.delete(m.id);
        const e = new EngineError(m.error.name, m.error.message, m.error.code);
        p.reject(p.handlers.signal?.aborted ? new CancelledError() : e);
        break;
      }
    }
    if (this.pending.size === 0) this.armIdle();
  }

  private armIdle(): void {
    this.clearIdle();
    this.idleTimer = setTimeout(() => this.stop(), this.options.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** Stops the process (idle, or extension deactivation). */
  stop(): void {
    this.clearIdle();
    if (!this.child) return;
    this.stopping = true;
    this.child.disconnect();
    const child = this.child;
    setTimeout(() => child.exitCode === null && child.kill(), 2000).unref();
  }

  /** For tests: kill the process as a native crash would. */
  killForTest(): void {
    this.child?.kill('SIGKILL');
  }
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1].slice(0, 300);
}

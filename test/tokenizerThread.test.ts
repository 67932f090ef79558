/**
 * The tokenizer on a worker thread (model/tokenizerThread.ts): the same ids as the main thread's
 * tokenizer, its refusals as TokenizerError, and a dataset profiled with it equal to one profiled
 * without it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTokenizer, TokenizerError } from '../src/core/model/tokenizer';
import { TokenizerThread, type FromTokenizerThread, type ToTokenizerThread } from '../src/core/model/tokenizerThread';
import { Worker } from 'node:worker_threads';
import { LayerProfiler } from '../src/core/profiler';
import type { DatasetResult } from '../src/core/results';
import { ensureModel } from './modelgen';

const TEXTS = ['def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n', 'fn main() { println!("héllo, wörld ✓"); }', '', '   \n\t'];

describe('tokenizer thread', () => {
  it('gives the ids, vocabulary size, padding id and sha256 of the main thread tokenizer', async () => {
    const m = await ensureModel('genai-gqa');
    const main = await loadTokenizer(m.dir);
    const thread = new TokenizerThread(m.dir);
    try {
      const encoder = await thread.ready;
      assert.deepEqual({ vocabSize: encoder.vocabSize, padId: encoder.padId, sha256: encoder.sha256 }, { vocabSize: main.vocabSize, padId: main.padId, sha256: main.sha256 });
      // Several at once: each answer goes to its own request.
      const ids = await Promise.all(TEXTS.map((t) => encoder.ids(t)));
      assert.deepEqual(ids, TEXTS.map((t) => main.encode(t).ids));
      assert.ok(ids[1].length > 5);
    } finally {
      await thread.close();
    }
    await assert.rejects(thread.ready.then((e) => e.ids('after close')), /closed/);
  });

  it('runs from the command line bundle (dist/tokenizerWorker.js, beside dist/cli.js)', async () => {
    const m = await ensureModel('genai-gqa');
    const main = await loadTokenizer(m.dir);
    const worker = new Worker(path.join(__dirname, '..', 'dist', 'tokenizerWorker.js'), { workerData: { location: m.dir } });
    try {
      const ready = await new Promise<FromTokenizerThread>((resolve, reject) => (worker.once('message', resolve), worker.once('error', reject)));
      assert.deepEqual(ready, { kind: 'ready', vocabSize: main.vocabSize, padId: main.padId, sha256: main.sha256 });
      worker.postMessage({ id: 7, text: TEXTS[1] } satisfies ToTokenizerThread);
      const answer = await new Promise<FromTokenizerThread>((resolve) => worker.once('message', resolve));
      assert.equal(answer.kind, 'ids');
      assert.deepEqual(answer.kind === 'ids' ? [answer.id, Array.from(answer.ids)] : [], [7, main.encode(TEXTS[1]).ids]);
    } finally {
      await worker.terminate();
    }
  });

  it('refuses a broken tokenizer.json with a TokenizerError, as the main thread does', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-tokthread-'));
    writeFileSync(path.join(dir, 'tokenizer.json'), '{ "model": ');
    const thread = new TokenizerThread(dir);
    try {
      const mainError = await loadTokenizer(dir).then(() => undefined, (err: unknown) => err as Error);
      assert.ok(mainError instanceof TokenizerError);
      await assert.rejects(thread.ready, (err: unknown) => err instanceof TokenizerError && (err as Error).message === mainError.message);
    } finally {
      await thread.close();
    }
  });

  it('profiles a dataset to the same numbers as the main thread tokenizer, and refuses a tokenizer larger than the embedding', async () => {
    const m = await ensureModel('genai-gqa');
    const folder = mkdtempSync(path.join(os.tmpdir(), 'lp-tokthread-data-'));
    TEXTS.forEach((t, i) => writeFileSync(path.join(folder, `t${i}.txt`), t));
    const run = async (tokenizeInWorker: boolean): Promise<{ result: DatasetResult; sha: string | undefined }> => {
      const p = await LayerProfiler.open({ kind: 'local', path: m.dir }, { tokenizeInWorker, expectedPasses: 1 });
      try {
        const gen = p.profileDataset({ name: 'd', paths: [folder] }, { maxTokens: 64, batchSize: 4 });
        for (;;) {
          const step = await gen.next();
          if (step.done) {
            assert.equal(p.idsFromTokenizerThread, tokenizeInWorker);
            return { result: step.value, sha: p.modelInfo().tokenizerSha256 };
          }
        }
      } finally {
        await p.dispose();
      }
    };
    const threaded = await run(true);
    const plain = await run(false);
    assert.equal(threaded.result.texts, 2);
    assert.equal(threaded.result.tokens, plain.result.tokens);
    assert.deepEqual(threaded.result.layers, plain.result.layers);
    assert.deepEqual(threaded.result.skipped, plain.result.skipped);
    assert.equal(threaded.sha, plain.sha);
    assert.match(threaded.sha ?? '', /^[0-9a-f]{64}$/);

    // A tokenizer with more tokens than the model's embedding has rows belongs to another model.
    const big = mkdtempSync(path.join(os.tmpdir(), 'lp-tokthread-big-'));
    mkdirSync(path.join(big, 'tok'));
    const json = JSON.parse(readFileSync(path.join(m.dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    for (let i = 0; i < 50; i++) json.model.vocab[`extra_${i}`] = m.vocabSize + i;
    writeFileSync(path.join(big, 'tok', 'tokenizer.json'), JSON.stringify(json));
    const p = await LayerProfiler.open({ kind: 'local', path: m.dir }, { tokenizeInWorker: true, tokenizer: path.join(big, 'tok') });
    try {
      const gen = p.profileDataset({ name: 'd', paths: [folder] }, { maxTokens: 64, batchSize: 4 });
      await assert.rejects(gen.next(), /the tokenizer does not belong to this model/);
    } finally {
      await p.dispose();
    }
  });
});

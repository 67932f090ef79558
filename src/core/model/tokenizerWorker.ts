/**
 * The worker thread behind tokenizerThread.ts: loads a tokenizer (workerData.location) and turns
 * texts into ids on request. Its own entry point, bundled as dist/tokenizerWorker.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadTokenizer } from './tokenizer';
import type { FromTokenizerThread, ToTokenizerThread } from './tokenizerThread';

const port = parentPort!;
const send = (m: FromTokenizerThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const loading = loadTokenizer((workerData as { location: string }).location);
loading.then(
  (t) => send({ kind: 'ready', vocabSize: t.vocabSize, padId: t.padId, sha256: t.sha256 }),
  (err: unknown) => send({ kind: 'failed', name: (err as Error).name === 'Error' ? (err as Error).constructor.name : (err as Error).name, message: (err as Error).message }),
);
port.on('message', (m: ToTokenizerThread) => {
  loading.then(
    (t) => {
      try {
        const ids = Int32Array.from(t.encode(m.text).ids);
        send({ kind: 'ids', id: m.id, ids }, [ids.buffer]);
      } catch (err) {
        send({ kind: 'error', id: m.id, message: (err as Error).message });
      }
    },
    () => undefined,
  );
});

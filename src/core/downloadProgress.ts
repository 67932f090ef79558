import type { DownloadProgress } from './api';

/**
 * Download progress arrives per network chunk; a person needs a few updates a second. Passes the
 * first and last report of each file, and others at most every `ms`.
 */
export function throttled(ms: number, send: (p: DownloadProgress) => void): (p: DownloadProgress) => void {
  let last = 0;
  let file = '';
  return (p) => {
    const now = Date.now();
    const done = p.bytesTotal !== undefined && p.bytesDone >= p.bytesTotal;
    if (p.file !== file || done || now - last >= ms) {
      file = p.file;
      last = now;
      send(p);
    }
  };
}

/** "downloading onnx/model_quantized.onnx: 12.3 of 520.4 MB", as the CLI and the extension show it. */
export function describeDownload(p: DownloadProgress): string {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  return `downloading ${p.file}: ${mb(p.bytesDone)}${p.bytesTotal ? ` of ${mb(p.bytesTotal)}` : ''} MB`;
}

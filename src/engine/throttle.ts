import type { DownloadProgress } from '../core/api';

/**
 * Download progress arrives per network chunk; the host needs a few updates a second. Passes the
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

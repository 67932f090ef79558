/**
 * Peak resident memory of this process, resettable: on Linux, writing 5 to /proc/self/clear_refs
 * resets the high-water mark (VmHWM) to the current RSS, so a bench can measure a run's peak apart
 * from the model loading before it. Elsewhere the reset does nothing and the peak is the process's.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Resets the peak to the current RSS; false where the system does not allow it. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The peak RSS since the process started or since the last reset, in bytes. */
export function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: the process's peak
  }
  return process.resourceUsage().maxRSS * 1024;
}

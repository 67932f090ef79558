/**
 * Paced garbage collection for long runs. Every pass hands back fresh output buffers (ONNX
 * Runtime's, wrapped as ArrayBuffers); they are garbage once read, but V8 collects them only
 * when its own heuristics say so, so a run over a large folder held tens of MB more than one over
 * a small folder (bench, `profile` at the default settings over 10, 100 and 1,000 files, ORT's
 * arena off: peak RSS 342, 352 and 425 MiB; with these collections 358, 352 and 390 MiB, the rest
 * of the growth being native memory the allocator kept, which the arena avoids: see
 * DEFAULT_CPU_MEMORY). A full collection of this small heap takes
 * milliseconds, and it runs only every few thousand tokens.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | null | undefined;

/** V8's collector, exposed at run time; null where that is refused (then nothing is paced). */
function collector(): (() => void) | null {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/** Token slots run between full collections: 32 full passes at the default budget (8192 measured no better). */
export const COLLECT_EVERY_SLOTS = 16384;

/** Counts the token slots passes ran and collects after every `every` of them. */
export class GarbagePacer {
  private slots = 0;

  constructor(
    private readonly every = COLLECT_EVERY_SLOTS,
    private readonly collect: () => (() => void) | null = collector,
  ) {}

  /** A pass of `slots` token slots (windows × padded length) ran. */
  ran(slots: number): void {
    this.slots += slots;
    if (this.slots < this.every) return;
    this.slots = 0;
    this.collect()?.();
  }
}

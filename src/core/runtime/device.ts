/**
 * Where a model runs: the CPU, or an accelerator ONNX Runtime offers on this platform. `auto`
 * takes the first available accelerator whose free memory fits the estimated need (weights plus
 * activations at the chosen batch and window) and otherwise the CPU, saying why; a model that
 * fits nowhere is refused with the numbers. The decision is a pure function of what was probed,
 * so it is tested with simulated devices.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';

export const DEVICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type DeviceChoice = (typeof DEVICES)[number];
export type Accelerator = Exclude<DeviceChoice, 'auto' | 'cpu'>;

/** Accelerators in the order `auto` tries them. */
const PREFERENCE: Accelerator[] = ['cuda', 'dml', 'coreml', 'webgpu'];

export interface DeviceInfo {
  name: Accelerator;
  available: boolean;
  /** Free memory, when it can be read (nvidia-smi for CUDA). */
  freeBytes?: number;
  /** Why it is not available, in words. */
  why?: string;
}

export interface MemoryNeed {
  weightsBytes: number;
  activationBytes: number;
}

export interface DeviceDecision {
  /** The ONNX Runtime execution provider: 'cpu', 'cuda', 'dml', 'coreml' or 'webgpu'. */
  provider: 'cpu' | Accelerator;
  reason: string;
}

export class DeviceError extends Error {}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/**
 * Activations of one pass, roughly: the residual stream and a block's intermediates (about 16
 * hidden-sized tensors per token), the attention scores of a layer, and the logits when the head runs.
 */
export function estimateNeed(m: { weightsBytes: number; hidden: number; heads?: number; vocab?: number; batch: number; window: number; headRuns?: number }): MemoryNeed {
  const tokens = m.batch * m.window;
  const stream = tokens * m.hidden * 4 * 16;
  const scores = m.batch * (m.heads ?? 16) * m.window * m.window * 4;
  const logits = tokens * (m.vocab ?? 0) * 4 * (m.headRuns ?? 0);
  return { weightsBytes: m.weightsBytes, activationBytes: stream + scores + logits };
}

export function chooseDevice(choice: DeviceChoice, devices: DeviceInfo[], need: MemoryNeed, cpuFreeBytes: number): DeviceDecision {
  const total = need.weightsBytes + need.activationBytes;
  const needs = `needs about ${gib(total)} (${gib(need.weightsBytes)} weights + ${gib(need.activationBytes)} activations)`;
  if (choice === 'cpu') return { provider: 'cpu', reason: 'the CPU, as asked' };
  if (choice !== 'auto') {
    const d = devices.find((x) => x.name === choice);
    if (!d?.available) throw new DeviceError(`--device ${choice}: not available here${d?.why ? ` (${d.why})` : ''}. Use --device auto or cpu.`);
    if (d.freeBytes !== undefined && d.freeBytes < total) throw new DeviceError(`--device ${choice}: the model ${needs}, but only ${gib(d.freeBytes)} is free there.`);
    return { provider: choice, reason: `${choice}, as asked` };
  }
  const passed: string[] = [];
  for (const name of PREFERENCE) {
    const d = devices.find((x) => x.name === name);
    if (!d?.available) {
      if (d?.why) passed.push(`${name}: ${d.why}`);
      continue;
    }
    if (d.freeBytes === undefined) {
      passed.push(`${name}: its free memory cannot be read`);
      continue;
    }
    if (d.freeBytes < total) {
      passed.push(`${name}: ${gib(d.freeBytes)} free`);
      continue;
    }
    return { provider: name, reason: `${name}: ${gib(d.freeBytes)} free, the model ${needs}` };
  }
  if (cpuFreeBytes < total) {
    throw new DeviceError(`The model ${needs}, and it fits nowhere: ${[...passed, `CPU: ${gib(cpuFreeBytes)} free`].join('; ')}. Use a smaller dtype (--dtype q4), a shorter window (--max-tokens) or batch 1.`);
  }
  return { provider: 'cpu', reason: `the CPU${passed.length ? ` (${passed.join('; ')})` : ' (no accelerator here)'}` };
}

/** What this machine offers: ONNX Runtime's backends, and CUDA's free memory from nvidia-smi. */
export async function probeDevices(backends: { name: string; bundled: boolean }[]): Promise<DeviceInfo[]> {
  const has = (name: string) => backends.find((b) => b.name === name);
  const out: DeviceInfo[] = [];
  const cuda = has('cuda');
  if (!cuda) out.push({ name: 'cuda', available: false, why: 'this ONNX Runtime build has no CUDA provider' });
  else if (!cuda.bundled) out.push({ name: 'cuda', available: false, why: "ONNX Runtime's CUDA libraries are not installed (install onnxruntime-node without ONNXRUNTIME_NODE_INSTALL=skip)" });
  else {
    const free = await nvidiaFreeBytes();
    out.push(free === undefined ? { name: 'cuda', available: false, why: 'no NVIDIA GPU answers nvidia-smi' } : { name: 'cuda', available: true, freeBytes: free });
  }
  for (const name of ['dml', 'coreml', 'webgpu'] as const) {
    const b = has(name);
    out.push(b ? { name, available: true } : { name, available: false, why: `not in this platform's ONNX Runtime` });
  }
  return out;
}

function nvidiaFreeBytes(): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=memory.free', '--format=csv,noheader,nounits'], { timeout: 5000 }, (err, stdout) => {
      const mib = Number.parseInt(stdout?.split('\n')[0] ?? '', 10);
      resolve(err || !Number.isFinite(mib) ? undefined : mib * 2 ** 20);
    });
  });
}

export function cpuFreeBytes(): number {
  return os.freemem();
}

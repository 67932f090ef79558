/** Device choice on simulated machines: the first accelerator that fits, else the CPU, else a refusal with the numbers. */
import assert from 'node:assert/strict';
import { chooseDevice, DeviceError, estimateNeed, probeDevices, type DeviceInfo } from '../src/core/runtime/device';
import { LayerProfiler } from '../src/core/profiler';
import { ensureModel } from './modelgen';

const GiB = 2 ** 30;
const need = { weightsBytes: 2 * GiB, activationBytes: 1 * GiB };
const gpu = (free: number): DeviceInfo => ({ name: 'cuda', available: true, freeBytes: free });
const none: DeviceInfo[] = [
  { name: 'cuda', available: false, why: 'no NVIDIA GPU answers nvidia-smi' },
  { name: 'dml', available: false, why: "not in this platform's ONNX Runtime" },
];

describe('device choice', () => {
  it('auto takes a GPU whose free memory fits the need', () => {
    const d = chooseDevice('auto', [gpu(8 * GiB)], need, 16 * GiB);
    assert.equal(d.provider, 'cuda');
    assert.match(d.reason, /8\.00 GiB free, the model needs about 3\.00 GiB/);
  });

  it('auto falls back to the CPU and says why: too little GPU memory, or none', () => {
    const small = chooseDevice('auto', [gpu(2 * GiB)], need, 16 * GiB);
    assert.deepEqual([small.provider, /cuda: 2\.00 GiB free/.test(small.reason)], ['cpu', true]);
    const bare = chooseDevice('auto', none, need, 16 * GiB);
    assert.equal(bare.provider, 'cpu');
    assert.match(bare.reason, /cuda: no NVIDIA GPU/);
  });

  it('auto skips an accelerator whose free memory cannot be read (WebGPU)', () => {
    const d = chooseDevice('auto', [{ name: 'webgpu', available: true }], need, 16 * GiB);
    assert.equal(d.provider, 'cpu');
    assert.match(d.reason, /webgpu: its free memory cannot be read/);
  });

  it('a model that fits nowhere is refused with the numbers', () => {
    assert.throws(() => chooseDevice('auto', [gpu(1 * GiB)], need, 2 * GiB), (e: Error) => e instanceof DeviceError && /needs about 3\.00 GiB \(2\.00 GiB weights \+ 1\.00 GiB activations\).*cuda: 1\.00 GiB free; CPU: 2\.00 GiB free/.test(e.message));
  });

  it('an explicit device must be there and fit; cpu is always taken', () => {
    assert.equal(chooseDevice('cpu', [], need, 0).provider, 'cpu');
    assert.equal(chooseDevice('cuda', [gpu(4 * GiB)], need, 0).provider, 'cuda');
    assert.throws(() => chooseDevice('cuda', none, need, 16 * GiB), /--device cuda: not available here \(no NVIDIA GPU/);
    assert.throws(() => chooseDevice('cuda', [gpu(1 * GiB)], need, 16 * GiB), /only 1\.00 GiB is free there/);
  });

  it('estimates activations from batch, window, hidden size and heads', () => {
    // 1 × 512 tokens × 1024 hidden × 4 bytes × 16, plus 16 heads × 512² × 4 bytes of scores.
    assert.equal(estimateNeed({ weightsBytes: 0, hidden: 1024, heads: 16, batch: 1, window: 512 }).activationBytes, 512 * 1024 * 4 * 16 + 16 * 512 * 512 * 4);
  });

  it("probes ONNX Runtime's backends: CUDA libraries not installed is said as such", async () => {
    const devices = await probeDevices([{ name: 'cpu', bundled: true }, { name: 'cuda', bundled: false }, { name: 'webgpu', bundled: true }]);
    assert.match(devices.find((d) => d.name === 'cuda')?.why ?? '', /CUDA libraries are not installed/);
    assert.equal(devices.find((d) => d.name === 'webgpu')?.available, true);
    assert.equal(devices.find((d) => d.name === 'dml')?.available, false);
  });

  it('the provider actually used is recorded in the results', async () => {
    const m = await ensureModel('optimum-llama');
    const profiler = await LayerProfiler.open({ kind: 'local', path: m.dir }, { device: 'auto' });
    try {
      // No GPU on a CI machine: auto falls back to the CPU and notes why.
      assert.equal(profiler.runtimeInfo().executionProvider, 'cpu');
      assert.ok(profiler.inspect().notes.some((n) => /^runs on the CPU/.test(n)));
    } finally {
      await profiler.dispose();
    }
  });
});

/**
 * ONNX Runtime's thread count when the user names none (runtime/cores.ts): one per physical core,
 * counted from Linux's CPU lists, and always handed to ORT explicitly (its own default undercounts
 * on some VMs: a single thread on the 2-core VM these tools are measured on).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { cgroupCpuLimit, cgroupQuotaCpus, countPhysicalCores, defaultThreads, parseCpuList } from '../src/core/runtime/cores';
import { ortSessionOptions } from '../src/core/runtime/windowRunner';

describe('default ONNX Runtime threads', () => {
  it('parses Linux CPU lists, refusing what is not one', () => {
    assert.deepEqual(parseCpuList('0'), [0]);
    assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
    assert.equal(parseCpuList('3-1'), undefined);
    assert.equal(parseCpuList('a,b'), undefined);
    assert.equal(parseCpuList(''), undefined);
  });

  it('counts SMT siblings once and a CPU of unknown topology as a core', () => {
    // 8 logical CPUs, two per core (cpu i shares a core with i+4, as x86 kernels number them).
    const smt = (cpu: number) => `${cpu % 4},${(cpu % 4) + 4}`;
    assert.equal(countPhysicalCores([0, 1, 2, 3, 4, 5, 6, 7], smt), 4);
    // Affinity to one core's two siblings: one core.
    assert.equal(countPhysicalCores([1, 5], smt), 1);
    assert.equal(countPhysicalCores([0, 1, 2], () => undefined), 3);
  });

  it('reads a cgroup v2 cpu quota, rounding up, and no limit as none', () => {
    assert.equal(cgroupCpuLimit('max 100000\n'), undefined);
    assert.equal(cgroupCpuLimit('150000 100000'), 2);
    assert.equal(cgroupCpuLimit('50000 100000'), 1);
    assert.equal(cgroupCpuLimit('garbage'), undefined);
  });

  it("takes the smallest CPU quota along the process's cgroup path, v2 or v1", () => {
    const files = (entries: Record<string, string>) => (file: string) => entries[file];
    // Kubernetes on cgroup v2: the pod's limit (2 CPUs) binds its container, which sets none.
    const pod = files({ '/sys/fs/cgroup/kubepods/pod1/cpu.max': '200000 100000\n', '/sys/fs/cgroup/kubepods/pod1/c1/cpu.max': 'max 100000\n' });
    assert.equal(cgroupQuotaCpus('0::/kubepods/pod1/c1\n', pod), 2);
    // A container with its own cgroup namespace sees its cgroup as the root.
    assert.equal(cgroupQuotaCpus('0::/\n', files({ '/sys/fs/cgroup/cpu.max': '150000 100000' })), 2);
    // Nested limits: the smaller wins, wherever it sits.
    const nested = files({ '/sys/fs/cgroup/a/cpu.max': '100000 100000', '/sys/fs/cgroup/a/b/cpu.max': '400000 100000' });
    assert.equal(cgroupQuotaCpus('0::/a/b', nested), 1);
    // Docker on cgroup v1: the CFS quota under the cpu controller; -1 is no limit.
    const v1 = '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/';
    assert.equal(cgroupQuotaCpus(v1, files({ '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '50000\n', '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n' })), 1);
    assert.equal(cgroupQuotaCpus(v1, files({ '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us': '100000' })), undefined);
    // No quota files at all (this VM's cgroup v1 hierarchy at the root): no limit.
    assert.equal(cgroupQuotaCpus('1:cpu:/\n0::/\n', files({})), undefined);
    assert.equal(cgroupQuotaCpus('', files({})), undefined);
  });

  it('counts the cores lscpu counts on this machine, at most the CPUs this process may use', function () {
    // Independent count: lscpu's parseable list of (core, socket) pairs over online CPUs.
    const lscpu = spawnSync('lscpu', ['-p=CORE,SOCKET'], { encoding: 'utf8' });
    if (lscpu.status !== 0 || os.platform() !== 'linux') this.skip();
    const cores = new Set(lscpu.stdout.split('\n').filter((l) => l && !l.startsWith('#')));
    assert.ok(cores.size >= 1);
    assert.equal(defaultThreads(), Math.min(cores.size, os.availableParallelism()));
  });

  it('always names the thread count to ONNX Runtime: the default when none is asked for, else the one asked for', () => {
    assert.equal(ortSessionOptions({}).intraOpNumThreads, defaultThreads());
    assert.equal(ortSessionOptions({ threads: 0 }).intraOpNumThreads, defaultThreads());
    assert.equal(ortSessionOptions({ threads: 3 }).intraOpNumThreads, 3);
  });
});

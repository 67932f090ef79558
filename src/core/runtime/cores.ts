/**
 * How many intra-op threads ONNX Runtime gets when the user names none: one per physical core
 * this process may run on.
 *
 * ORT's own default counts cores through the cpuinfo library, which on some virtual machines
 * finds fewer than there are: on the 2-core AMD EPYC VM these tools are measured on it starts no
 * worker thread at all, and a MatMul ran at 128 GFLOPS against 250 with two threads (a profile
 * pass at 0.53 ms a token against 0.31). So the count is made here, from what Linux says about
 * the CPUs this process may use, and handed to ORT explicitly. SMT siblings count once: two
 * threads on one core's shared FMA units are slower than one for GEMMs. A cgroup CPU quota (a
 * container's CPU limit) caps the count: more busy threads than the quota are throttled.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** CPU numbers of a Linux CPU list ("0-3,8,10-11"); undefined where it does not parse. */
export function parseCpuList(text: string): number[] | undefined {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) return undefined;
    for (let c = first; c <= last; c++) cpus.push(c);
  }
  return cpus;
}

/**
 * Physical cores among `allowed` CPUs, given each CPU's SMT sibling list (as the kernel writes it:
 * CPUs sharing one core have the same list). A CPU whose siblings are unknown counts as a core.
 */
export function countPhysicalCores(allowed: number[], siblingsOf: (cpu: number) => string | undefined): number {
  const cores = new Set<string>();
  for (const cpu of allowed) cores.add(siblingsOf(cpu)?.trim() || `cpu${cpu}`);
  return cores.size;
}

/** CPUs a cgroup v2 `cpu.max` ("quota period", or "max period") grants, rounded up; undefined for no limit. */
export function cgroupCpuLimit(cpuMax: string): number | undefined {
  const [quota, period] = cpuMax.trim().split(/\s+/);
  return quotaCpus(quota, period);
}

function quotaCpus(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  if (quota === 'max' || !(q > 0) || !(p > 0)) return undefined;
  return Math.max(1, Math.ceil(q / p));
}

/** A folder and its ancestors up to (and with) `root`. */
function upTo(root: string, relative: string): string[] {
  const dirs: string[] = [];
  let rel = relative.replace(/\/+$/, '');
  for (;;) {
    dirs.push(rel ? `${root}${rel}` : root);
    if (!rel) return dirs;
    rel = rel.slice(0, rel.lastIndexOf('/'));
  }
}

/**
 * The CPU quota of the process's cgroup (from `/proc/self/cgroup`'s text), the smallest along its
 * path, since a parent's limit binds its children: cgroup v2's `cpu.max`, or v1's CFS quota and
 * period under the cpu controller (Docker, Kubernetes CPU limits). `read` reads a file under
 * /sys/fs/cgroup, undefined where there is none. Undefined: no limit.
 */
export function cgroupQuotaCpus(procCgroup: string, read: (file: string) => string | undefined): number | undefined {
  const limits: number[] = [];
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers, cgroupPath] = m;
    if (id === '0' && controllers === '') {
      for (const dir of upTo('/sys/fs/cgroup', cgroupPath)) {
        const limit = cgroupCpuLimit(read(`${dir}/cpu.max`) ?? 'max');
        if (limit !== undefined) limits.push(limit);
      }
    } else if (controllers.split(',').includes('cpu')) {
      for (const mount of ['/sys/fs/cgroup/cpu', `/sys/fs/cgroup/${controllers}`]) {
        for (const dir of upTo(mount, cgroupPath)) {
          const limit = quotaCpus(read(`${dir}/cpu.cfs_quota_us`)?.trim(), read(`${dir}/cpu.cfs_period_us`)?.trim());
          if (limit !== undefined) limits.push(limit);
        }
      }
    }
  }
  return limits.length ? Math.min(...limits) : undefined;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The CPUs this process may run on (its affinity mask), from /proc; undefined off Linux. */
function allowedCpus(): number[] | undefined {
  const status = readText('/proc/self/status');
  const line = status?.split('\n').find((l) => l.startsWith('Cpus_allowed_list:'));
  return line ? parseCpuList(line.slice(line.indexOf(':') + 1)) : undefined;
}

let counted: number | undefined;

/** Intra-op threads for ORT when none is asked for (computed once per process). */
export function defaultThreads(): number {
  if (counted !== undefined) return counted;
  const logical = os.availableParallelism();
  const allowed = allowedCpus();
  const physical = allowed
    ? countPhysicalCores(allowed, (cpu) => readText(`/sys/devices/system/cpu/cpu${cpu}/topology/thread_siblings_list`))
    : logical;
  const quota = cgroupQuotaCpus(readText('/proc/self/cgroup') ?? '', readText);
  counted = Math.max(1, Math.min(physical, logical, quota ?? Infinity));
  return counted;
}

/** The intra-op thread count a session runs with: the one asked for, else defaultThreads(). */
export function resolveThreads(requested: number | undefined): number {
  return requested || defaultThreads();
}

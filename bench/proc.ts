// What the kernel knows about a run's processes: peak RSS (VmHWM) and CPU time (utime + stime), read
// from /proc every 50 ms for a process and everything it spawns, plus CPU deltas of long-lived servers
// (PostgreSQL's whole process tree, s3rver) and of this process (the in-process B2 server).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

interface ProcStat {
  name: string;
  ppid: number;
  /** utime + stime, seconds. */
  cpu: number;
  /** cutime + cstime (children already waited for), seconds. */
  childCpu: number;
}

export function procStat(pid: number): ProcStat | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields follow the last ')'.
    const close = text.lastIndexOf(')');
    const name = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' ');
    // f[0] is field 3 (state): utime = field 14 → f[11], stime f[12], cutime f[13], cstime f[14].
    return { name, ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICKS, childCpu: (Number(f[13]) + Number(f[14])) / TICKS };
  } catch {
    return null;
  }
}

export function peakRssKb(pid: number): number {
  try {
    const m = /^VmHWM:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Every live process: pid → parent pid. */
function parentMap(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(Number(entry));
    if (s) map.set(Number(entry), s.ppid);
  }
  return map;
}

/** Direct children from /proc/<pid>/task/<tid>/children (no scan of every process). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      // the task ended
    }
  }
  return out;
}

const CHILDREN_FILES = fs.existsSync(`/proc/${process.pid}/task/${process.pid}/children`);

export function descendants(root: number): number[] {
  const parents = CHILDREN_FILES ? undefined : parentMap();
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    const kids = parents ? [...parents].filter(([, ppid]) => ppid === p).map(([pid]) => pid) : childrenOf(p);
    for (const pid of kids) {
      out.push(pid);
      queue.push(pid);
    }
  }
  return out;
}

/** CPU seconds of a process tree so far, counting children it has already reaped (a postmaster reaps its backends). */
export function treeCpu(root: number): number {
  const rootStat = procStat(root);
  if (!rootStat) return 0;
  let total = rootStat.cpu + rootStat.childCpu;
  for (const pid of descendants(root)) total += procStat(pid)?.cpu ?? 0;
  return total;
}

export interface ProcessFigures {
  /** Largest VmHWM among the processes of that name, MB. */
  peakRssMb: number;
  /** CPU seconds, summed over the processes of that name. */
  cpuSeconds: number;
}

export interface ServerGroup {
  name: string;
  /** CPU seconds so far. */
  cpu: () => number;
}

export interface RunProfile {
  wallSeconds: number;
  processes: Record<string, ProcessFigures>;
  /** CPU seconds the servers spent during the run. */
  servers: Record<string, number>;
}

/**
 * Samples `root` and its descendants until stop(). A child still named like its parent "node" right
 * after fork is the pre-exec copy: it is skipped, its RSS is the parent's pages.
 */
export function sampleRun(root: number, rootName: string, servers: ServerGroup[]): { stop: () => RunProfile } {
  const started = performance.now();
  const serverStart = servers.map((s) => s.cpu());
  const perPid = new Map<number, { name: string; rssKb: number; cpu: number }>();
  const sample = () => {
    const pids = [root, ...descendants(root)];
    for (const pid of pids) {
      const s = procStat(pid);
      if (!s) continue;
      if (pid !== root && s.name === 'node' && perPid.get(pid) === undefined && cmdline(pid) === cmdline(root)) continue;
      const name = pid === root ? rootName : s.name;
      const prev = perPid.get(pid);
      perPid.set(pid, { name, rssKb: Math.max(prev?.rssKb ?? 0, peakRssKb(pid)), cpu: Math.max(prev?.cpu ?? 0, s.cpu) });
    }
  };
  sample();
  const timer = setInterval(sample, 50);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const processes: Record<string, ProcessFigures> = {};
      for (const p of perPid.values()) {
        const f = (processes[p.name] ??= { peakRssMb: 0, cpuSeconds: 0 });
        f.peakRssMb = Math.max(f.peakRssMb, round(p.rssKb / 1024, 1));
        f.cpuSeconds = round(f.cpuSeconds + p.cpu, 2);
      }
      const serverCpu: Record<string, number> = {};
      servers.forEach((s, i) => (serverCpu[s.name] = round(s.cpu() - serverStart[i]!, 2)));
      return { wallSeconds: round((performance.now() - started) / 1000, 2), processes, servers: serverCpu };
    },
  };
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The s3rver child of this process. */
export function findChildByCmdline(fragment: string): number | null {
  for (const pid of descendants(process.pid)) if (cmdline(pid).includes(fragment)) return pid;
  return null;
}

/** This process's own CPU seconds (the B2 server runs in it). */
export function selfCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

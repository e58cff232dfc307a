// Linux /proc readings for the bench: processes of a group, their RSS, and CPU use
// (ours versus the whole machine, so a busy neighbour shows up in the results).
import { readdirSync, readFileSync } from "node:fs";

/** Splits /proc/<pid>/stat after the `(comm)` field, which may contain spaces. */
function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const close = stat.lastIndexOf(")");
  // fields[0] is `state` (field 3 of stat(5)); pgrp is fields[2], utime fields[11], stime fields[12].
  return { comm: stat.slice(stat.indexOf("(") + 1, close), fields: stat.slice(close + 2).split(" ") };
}

/** Processes whose process group is `pgid`. */
export function groupPids(pgid) {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const { comm, fields } = statFields(name);
      if (Number(fields[2]) === pgid) out.push({ pid: Number(name), comm });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** Resident set size in KiB (VmRSS) of one process, or 0 if it is gone. */
export function rssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** RSS of the workerd processes in the group: their sum and the largest one, in KiB. */
export function workerdRss(pgid) {
  const procs = groupPids(pgid).filter((p) => p.comm.startsWith("workerd"));
  const each = procs.map((p) => rssKiB(p.pid));
  return { processes: procs.length, totalKiB: each.reduce((a, b) => a + b, 0), maxKiB: Math.max(0, ...each) };
}

/** Samples workerd RSS every `everyMs` until stopped; returns the peaks seen. */
export function rssSampler(pgid, everyMs = 100) {
  const peak = { totalKiB: 0, maxKiB: 0, processes: 0, samples: 0 };
  const take = () => {
    const s = workerdRss(pgid);
    peak.samples++;
    peak.processes = Math.max(peak.processes, s.processes);
    peak.totalKiB = Math.max(peak.totalKiB, s.totalKiB);
    peak.maxKiB = Math.max(peak.maxKiB, s.maxKiB);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}

function jiffies(pid) {
  try {
    const { fields } = statFields(pid);
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function machineJiffies() {
  const v = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const all = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: all - idle, all };
}

/**
 * CPU use over an interval, in "cores" (1.0 = one core fully busy): the whole machine,
 * the runtime's process group, and this bench process (autocannon's load generator).
 * Processes of the group that end during the interval are not counted.
 */
export function cpuMeter(pgid, cores) {
  const ours = () => {
    const pids = groupPids(pgid).map((p) => p.pid);
    return { group: pids.reduce((a, p) => a + jiffies(p), 0), bench: jiffies(process.pid) };
  };
  const m0 = machineJiffies();
  const o0 = ours();
  return () => {
    const m1 = machineJiffies();
    const o1 = ours();
    const total = m1.all - m0.all || 1;
    const toCores = (j) => +((j / total) * cores).toFixed(2);
    const machine = toCores(m1.busy - m0.busy);
    const runtime = toCores(o1.group - o0.group);
    const bench = toCores(o1.bench - o0.bench);
    return {
      machine_cores: machine,
      runtime_cores: runtime,
      load_generator_cores: bench,
      others_cores: +Math.max(0, machine - runtime - bench).toFixed(2),
    };
  };
}

/**
 * The workerd processes of the group with their RSS in MiB. `wrangler dev` runs two: the one listening
 * on the dev port is wrangler's proxy in front of the Worker; the other runs the Worker, its Durable
 * Objects and the local D1 (labelled "worker").
 */
export function workerdProcesses(pgid, port) {
  return groupPids(pgid)
    .filter((p) => p.comm.startsWith("workerd"))
    .map((p) => {
      let cmd = "";
      try {
        cmd = readFileSync(`/proc/${p.pid}/cmdline`, "utf8");
      } catch {
        /* gone */
      }
      return {
        pid: p.pid,
        role: cmd.includes(`entry=127.0.0.1:${port}`) ? "proxy" : "worker",
        rss_mib: +(rssKiB(p.pid) / 1024).toFixed(1),
      };
    });
}

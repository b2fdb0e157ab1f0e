/**
 * Samples a process's resident set size (/proc/<pid>/status) and CPU time (/proc/<pid>/stat), Linux.
 * @module
 */
import { readFileSync } from "node:fs";

/** Start, peak and end RSS of a process over a run, in KiB. */
export interface RssSummary {
  readonly startKiB: number;
  readonly maxKiB: number;
  readonly endKiB: number;
}

/** VmRSS of `pid` in KiB, or undefined when the process or the field is gone. */
export function readRssKiB(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined; // the process exited: nothing to sample
  }
}

/** Clock ticks per second of /proc times (USER_HZ is 100 on Linux). */
export const USER_HZ = 100;

/** User + system CPU seconds of `pid` so far, or undefined when unreadable. */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return undefined; // the process exited
  }
}

/** Collects samples; summary() is undefined until one succeeded. */
export class RssSampler {
  readonly #pid: number;
  #start: number | undefined;
  #max = 0;
  #last = 0;

  constructor(pid: number) {
    this.#pid = pid;
  }

  /** Takes one sample. */
  sample(): void {
    const kib = readRssKiB(this.#pid);
    if (kib === undefined) return;
    this.#start ??= kib;
    this.#last = kib;
    if (kib > this.#max) this.#max = kib;
  }

  /** The samples so far. */
  summary(): RssSummary | undefined {
    return this.#start === undefined ? undefined : { startKiB: this.#start, maxKiB: this.#max, endKiB: this.#last };
  }
}

/** Machine CPU ticks (/proc/stat "cpu" line): stolen by the hypervisor, busy (not idle/iowait/steal), total. For noise reports. */
export function readStealTicks(): { steal: number; busy: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { steal: v[7] ?? 0, busy: total - (v[3] ?? 0) - (v[4] ?? 0) - (v[7] ?? 0), total };
  } catch {
    return undefined; // not Linux
  }
}

/** User + system CPU seconds of `pid` and every live descendant (a wrapper's children too). */
export function readTreeCpuSeconds(pid: number): number | undefined {
  const own = readCpuSeconds(pid);
  if (own === undefined) return undefined;
  let sum = own;
  for (const child of childPids(pid)) sum += readTreeCpuSeconds(child) ?? 0;
  return sum;
}

function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return text.length === 0 ? [] : text.split(" ").map(Number);
  } catch {
    return []; // no children file (older kernels) or the process is gone
  }
}

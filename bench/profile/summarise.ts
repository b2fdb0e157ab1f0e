/**
 * Summarises a V8/JSC `.cpuprofile` (from `bun --cpu-prof` or `deno --cpu-prof`): the top
 * functions by self time, with their share of all samples and their source location.
 *   bun run bench/profile/summarise.ts PROFILE.cpuprofile [--top 25] [--json]
 * @module
 */
import { readFileSync } from "node:fs";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** One row of the summary. */
export interface SelfTimeRow {
  readonly function: string;
  readonly location: string;
  readonly selfMs: number;
  readonly selfShare: number;
}

/** Self time per function (merged over call sites), largest first. */
export function selfTimes(profile: CpuProfile): SelfTimeRow[] {
  const byNode = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0) {
    // Each sample's time is the delta to the next sample.
    for (let i = 0; i < samples.length; i++) {
      const dt = i + 1 < deltas.length ? deltas[i + 1] : 0;
      byNode.set(samples[i], (byNode.get(samples[i]) ?? 0) + Math.max(0, dt));
    }
  } else {
    const total = profile.endTime - profile.startTime;
    const hits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0) || 1;
    for (const node of profile.nodes) byNode.set(node.id, ((node.hitCount ?? 0) / hits) * total);
  }
  const merged = new Map<string, { fn: string; loc: string; us: number }>();
  let totalUs = 0;
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    totalUs += us;
    const f = node.callFrame;
    const fn = f.functionName === "" ? "(anonymous)" : f.functionName;
    const file = f.url.replace(/^file:\/\//, "").replace(/^.*\/work\/main\//, "");
    const loc = file === "" ? "" : `${file}:${f.lineNumber + 1}`;
    const key = `${fn}@${loc}`;
    const row = merged.get(key) ?? { fn, loc, us: 0 };
    row.us += us;
    merged.set(key, row);
  }
  return [...merged.values()]
    .sort((a, b) => b.us - a.us)
    .map((r) => ({ function: r.fn, location: r.loc, selfMs: r.us / 1000, selfShare: totalUs === 0 ? 0 : r.us / totalUs }));
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith("--"));
  if (file === undefined) {
    process.stderr.write("usage: bun run bench/profile/summarise.ts PROFILE.cpuprofile [--top N] [--json]\n");
    process.exit(2);
  }
  const topAt = args.indexOf("--top");
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const rows = selfTimes(JSON.parse(readFileSync(file, "utf8")) as CpuProfile).slice(0, top);
  if (args.includes("--json")) console.log(JSON.stringify(rows));
  else for (const r of rows) console.log(`${(r.selfShare * 100).toFixed(1).padStart(5)} %  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.function.padEnd(36)} ${r.location}`);
}

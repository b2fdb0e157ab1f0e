/**
 * Human-readable table of a load result.
 * @module
 */
import type { LoadResult } from "./run.ts";

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function fmtUs(us: number): string {
  return us >= 10_000 ? `${(us / 1000).toFixed(1)} ms` : us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${Math.round(us)} µs`;
}

/** Formats a result as an aligned two-column table. */
export function formatTable(r: LoadResult): string {
  const o = r.options;
  const rows: [string, string][] = [
    ["target", `${o.host}:${o.port} (HELLO as HAProxy ${o.hello}, message ${o.message})`],
    ["load", `${o.mode} loop, ${o.connections} connections × ${o.pipeline} ${o.mode === "closed" ? "in flight" : "max in flight"}${o.mode === "open" ? `, ${fmtInt(o.rate)}/s` : ""}`],
    ["keys", `${fmtInt(o.keys)} (${Math.round(o.ipv6Share * 100)} % IPv6), ${fmtInt(r.distinctKeys)} distinct sent`],
    ["measured", `${r.measuredSeconds.toFixed(1)} s after ${(o.warmupMs / 1000).toFixed(1)} s warm-up, ${r.connectionsReady}/${o.connections} connections ready`],
    ["ACKs", `${fmtInt(r.acks)} (${fmtInt(r.acksPerSecond)}/s)`],
    ["verdicts", `${fmtInt(r.allowed)} allowed, ${fmtInt(r.denied)} denied, ${fmtInt(r.noVerdict)} without verdict`],
    ["unanswered", fmtInt(r.unanswered)],
    [
      "latency",
      `p50 ${fmtUs(r.latencyUs.p50Us)}  p90 ${fmtUs(r.latencyUs.p90Us)}  p99 ${fmtUs(r.latencyUs.p99Us)}  p99.9 ${fmtUs(r.latencyUs.p999Us)}  max ${fmtUs(r.latencyUs.maxUs)}  (mean ${fmtUs(r.latencyUs.meanUs)})`,
    ],
    ["errors", Object.keys(r.errors).length === 0 ? "none" : Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(", ")],
    ["DISCONNECTs", Object.keys(r.disconnects).length === 0 ? "none" : Object.entries(r.disconnects).map(([k, v]) => `status ${k} × ${v}`).join(", ")],
  ];
  if (r.agentRss !== undefined) {
    const m = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
    rows.push(["agent RSS", `start ${m(r.agentRss.startKiB)}, max ${m(r.agentRss.maxKiB)}, end ${m(r.agentRss.endKiB)}`]);
  }
  const cpu = r.cpuSeconds;
  rows.push([
    "CPU (window)",
    `generator ${cpu.generator.toFixed(1)} s` +
      (cpu.agent === undefined ? "" : `, agent ${cpu.agent.toFixed(1)} s = ${r.agentCpuUsPerAck?.toFixed(2)} µs CPU per ACK`) +
      (cpu.store === undefined ? "" : `, store ${cpu.store.toFixed(1)} s = ${r.storeCpuUsPerAck?.toFixed(2)} µs CPU per ACK`),
  ]);
  const fp = r.failurePolicy;
  if (fp !== undefined) {
    rows.push(["failure policy", `${fmtInt(fp.degraded)} of ${fmtInt(fp.decisions)} decisions (${(fp.share * 100).toFixed(3)} %) made without the store`]);
  }
  if (r.otherCpuSeconds !== undefined) rows.push(["other processes", `${r.otherCpuSeconds.toFixed(1)} CPU s during the window (noise)`]);
  if (r.stealShare !== undefined) rows.push(["CPU steal", `${(r.stealShare * 100).toFixed(1)} % of the machine's CPU time went to other guests`]);
  for (const e of r.firstErrors) rows.push(["first errors", e]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

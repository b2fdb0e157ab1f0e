/**
 * Startup time: spawn the agent, time until its SPOP port accepts a connection (polled every
 * 2 ms) and until it logs "listening"; repeated, median reported. Also its idle RSS.
 *   bun run bench/startup.ts [--runtime binary|bun|deno] [--runs 20] [--json]
 * @module
 */
import { existsSync } from "node:fs";
import { readRssKiB } from "./load/rss.ts";
import { accepts, BUN, DENO, freePort, ROOT } from "./lib/processes.ts";

const argv = process.argv.slice(2);
const get = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const runtime = get("runtime", "binary");
const runs = Math.max(1, Number(get("runs", "20")));
const binary = `${ROOT}dist/spoa-gcra`;
if (runtime === "binary" && !existsSync(binary)) throw new Error(`${binary} is missing (npm run compile)`);

function command(listen: string): string[] {
  const args = ["serve", "--listen", listen];
  if (runtime === "binary") return [binary, ...args];
  if (runtime === "bun") return [BUN, "run", "src/cli/main.ts", ...args];
  return [DENO, "run", "--allow-net", "--allow-read", "--allow-env", "--allow-sys", "--allow-run", "--unstable-net", "src/cli/main.ts", ...args];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const acceptMs: number[] = [];
const logMs: number[] = [];
const rssKiB: number[] = [];
for (let i = 0; i < runs; i++) {
  const port = freePort();
  const t0 = performance.now();
  const proc = Bun.spawn(command(`127.0.0.1:${port}`), { cwd: ROOT, env: { ...process.env, METRICS_ADDR: "off" }, stdout: "pipe", stderr: "inherit" });
  let logAt: number | undefined;
  void (async () => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of proc.stdout as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk);
      if (logAt === undefined && text.includes('"msg":"listening"')) logAt = performance.now() - t0;
    }
  })();
  let acceptAt: number | undefined;
  while (performance.now() - t0 < 10_000) {
    if (await accepts(port)) {
      acceptAt = performance.now() - t0;
      break;
    }
    await Bun.sleep(2);
  }
  const until = performance.now() + 1000;
  while (logAt === undefined && performance.now() < until) await Bun.sleep(2);
  // Idle RSS a moment after startup (JIT and allocator settled).
  await Bun.sleep(300);
  const rss = readRssKiB(proc.pid);
  proc.kill("SIGTERM");
  const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
  if (!exited) proc.kill("SIGKILL");
  if (acceptAt === undefined) throw new Error(`run ${i}: the agent never accepted on port ${port}`);
  acceptMs.push(acceptAt);
  if (logAt !== undefined) logMs.push(logAt);
  if (rss !== undefined) rssKiB.push(rss);
}

const result = {
  runtime,
  runs,
  acceptMedianMs: median(acceptMs),
  acceptMinMs: Math.min(...acceptMs),
  acceptMaxMs: Math.max(...acceptMs),
  listeningLogMedianMs: logMs.length > 0 ? median(logMs) : undefined,
  idleRssMedianMiB: rssKiB.length > 0 ? median(rssKiB) / 1024 : undefined,
};
if (argv.includes("--json")) console.log(JSON.stringify(result));
else {
  console.log(`${runtime}: spawn → port accepts: median ${result.acceptMedianMs.toFixed(1)} ms (min ${result.acceptMinMs.toFixed(1)}, max ${result.acceptMaxMs.toFixed(1)}) over ${runs} runs`);
  if (result.listeningLogMedianMs !== undefined) console.log(`${runtime}: spawn → "listening" log: median ${result.listeningLogMedianMs.toFixed(1)} ms`);
  if (result.idleRssMedianMiB !== undefined) console.log(`${runtime}: idle RSS 300 ms after start: median ${result.idleRssMedianMiB.toFixed(1)} MiB`);
}

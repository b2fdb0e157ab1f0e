// The compiled binary under hostile connections: 10,000 (FUZZ_CONNECTIONS) TCP connections, 64
// at a time, each sending a fuzzed HAProxy session (tests/fuzz/sessions.ts) in random pieces and
// then leaving by FIN, RST or silence. Invariants: every byte the agent sends back decodes as
// frames, every AGENT-DISCONNECT carries a legal status, no connection is left open behind, the
// log stays throttled, and afterwards the process is alive and passes a clean conformance
// exchange (HELLO, NOTIFY → ACK with a decision, DISCONNECT → AGENT-DISCONNECT 0).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { portOf, scrape, sumOf } from "../helpers/prometheus.ts";
import { type AgentReply, ReplyParser } from "../../src/spop/client.ts";
import { connectSpop } from "../helpers/spop-socket.ts";
import { FUZZ_REGRESSIONS } from "../fixtures/fuzz-regressions.ts";
import { hex } from "../fixtures/spop-vectors.ts";
import { fuzzSettings, hexOf, inputRandom, LEGAL_STATUSES, type Random } from "./fuzz-kit.ts";
import { randomChunks } from "./mutate.ts";
import { pick, sessionBytes } from "./sessions.ts";

const CONNECTIONS = Number(process.env.FUZZ_CONNECTIONS ?? 10_000);
const PARALLEL = 64;
/** A connection the agent has not closed is abandoned after this much silence. */
const IDLE_MS = 30;
type Leave = "fin" | "rst" | "wait";

interface Outcome {
  readonly label: string;
  /** A broken invariant, with the input to replay. */
  readonly problem?: string;
}

let agent: AgentProcess;
let agentPort = 0;
let metricsPort = 0;

beforeAll(async () => {
  agentPort = await freePort();
  agent = await startAgent({ runtime: "binary", args: ["serve", "--listen", `127.0.0.1:${agentPort}`, "--metrics", "127.0.0.1:0"] });
  metricsPort = portOf(String((await agent.waitForLog("listening")).metrics));
}, 30_000);

afterAll(async () => {
  await agent?.stop();
});

/** The `index`-th fuzzed connection: what it sends, in which pieces, and how it leaves. */
function fuzzedConnection(index: number, random: Random): { index: number; bytes: Uint8Array; chunks: Uint8Array[]; leave: Leave } {
  const bytes = sessionBytes(random);
  return { index, bytes, chunks: randomChunks(random, bytes, 4), leave: pick(random, ["fin", "rst", "wait"] as const) };
}

/** Runs one connection; resolves with how it ended (never rejects). */
function oneConnection({ index, bytes, chunks, leave }: ReturnType<typeof fuzzedConnection>): Promise<Outcome> {
  const parser = new ReplyParser();
  const replies: AgentReply[] = [];
  let problem: string | undefined;
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: "127.0.0.1", port: agentPort, noDelay: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    let agentClosed = false;
    const finish = () => {
      clearTimeout(idle);
      const last = replies.at(-1);
      const label = last === undefined ? "silent" : last.type === "agent-disconnect" ? `disconnect ${last.status}` : last.type;
      const where = `connection ${index} (FUZZ_SEED=${fuzzSettings().seed}), leave ${leave}: ${hexOf(bytes)}`;
      resolve({ label: agentClosed ? label : `${label}, we left`, problem: problem === undefined ? undefined : `${problem} — ${where}` });
    };
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        if (leave === "rst") socket.resetAndDestroy();
        else socket.destroy();
      }, IDLE_MS);
    };
    socket.on("connect", () => {
      for (const chunk of chunks) socket.write(chunk);
      if (leave === "fin") socket.end();
      armIdle();
    });
    socket.on("data", (data: Buffer) => {
      try {
        for (const reply of parser.push(new Uint8Array(data.buffer, data.byteOffset, data.length))) {
          replies.push(reply);
          if (reply.type === "agent-disconnect" && !LEGAL_STATUSES.has(reply.status)) problem ??= `AGENT-DISCONNECT with status ${reply.status}`;
          if (reply.bytes[5] !== 0 || reply.bytes[6] !== 0 || reply.bytes[7] !== 0 || reply.bytes[8] !== 1) problem ??= `a ${reply.type} frame without exactly FIN`;
        }
      } catch (error) {
        problem ??= `the agent sent bytes that do not decode: ${(error as Error).message}`;
      }
      armIdle();
    });
    socket.on("end", () => void (agentClosed = true));
    socket.on("error", () => {});
    socket.on("close", finish);
  });
}

describe("the compiled binary under fuzzed connections", () => {
  test(`${CONNECTIONS} connections of fuzzed sessions, then a clean conformance exchange`, async () => {
    const seed = fuzzSettings().seed;
    const outcomes: Record<string, number> = {};
    const problems: string[] = [];
    for (const r of FUZZ_REGRESSIONS.filter((x) => x.target === "socket")) {
      const bytes = hex(r.hex);
      for (const leave of ["fin", "rst", "wait"] as const) {
        const outcome = await oneConnection({ index: -1, bytes, chunks: [bytes], leave });
        if (outcome.problem !== undefined) problems.push(`regression "${r.note}": ${outcome.problem}`);
      }
    }
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < CONNECTIONS && problems.length < 5) {
        const index = next++;
        const outcome = await oneConnection(fuzzedConnection(index, inputRandom(seed, 1_000_000 + index)));
        outcomes[outcome.label] = (outcomes[outcome.label] ?? 0) + 1;
        if (outcome.problem !== undefined) problems.push(outcome.problem);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const seconds = (performance.now() - started) / 1000;
    console.log(`fuzz socket: ${next} connections in ${seconds.toFixed(1)} s (${Math.round(next / seconds)}/s), seed ${seed}, outcomes ${JSON.stringify(outcomes)}`);
    expect(problems).toEqual([]);
    expect(next).toBe(CONNECTIONS);

    // Nothing left behind: every fuzzed connection is closed on the agent's side too.
    await waitFor("spoa_connections_open 0", async () => sumOf(await scrape(metricsPort), "spoa_connections_open") === 0, 10_000);
    const metrics = await scrape(metricsPort);
    const accepted = sumOf(metrics, "spoa_connections_accepted_total");
    const rssMiB = sumOf(metrics, "spoa_process_resident_memory_bytes") / 2 ** 20;
    const logLines = agent.logs().length;
    console.log(`fuzz socket: agent accepted ${accepted}, RSS ${rssMiB.toFixed(0)} MiB, ${logLines} log lines`);
    expect(accepted).toBeGreaterThanOrEqual(CONNECTIONS);
    // Thousands of protocol errors, a throttled handful of log lines.
    expect(logLines).toBeLessThan(200);

    // Alive, and still a conforming agent.
    const conn = await connectSpop({ port: agentPort });
    conn.notify(0x0a000001);
    await conn.waitForAcks(1);
    expect(conn.denied).toBe(0);
    conn.client.disconnect(0);
    await conn.ended;
    expect(conn.disconnect).toEqual({ status: 0, message: "normal" });
    expect(await Promise.race([agent.exited, Bun.sleep(50).then(() => "alive")])).toBe("alive");
  }, 60_000);

  // A HAPROXY-HELLO followed at once by RST makes the AGENT-HELLO write fail; the engine takes
  // that for congestion and pauses reading, and Bun did not always report the close of such a
  // paused socket — the connection stayed counted open, and held, forever (3–4 of 60 tries under
  // Bun and the binary, 0 under Deno). The Bun adapter now reports the close itself.
  test("a HELLO followed at once by RST never leaves a connection counted open", async () => {
    const hello = hex(FUZZ_REGRESSIONS[0].hex).subarray(0, 134);
    for (let i = 0; i < 200; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port: agentPort });
        socket.on("connect", () => {
          socket.write(hello);
          socket.resetAndDestroy();
        });
        socket.on("error", () => {});
        socket.on("close", () => resolve());
      });
    }
    await waitFor("spoa_connections_open 0", async () => sumOf(await scrape(metricsPort), "spoa_connections_open") === 0, 5_000);
  }, 30_000);
});

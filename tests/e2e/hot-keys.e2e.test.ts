// store.valkey.hotKeyRate end to end: the agent as a subprocess over real Valkey (8 and 9), one
// client far above the threshold over real SPOP. Its key is decided from slices — the slice
// script's presence set appears beside the key — and what it is allowed stays within the
// stated bound of exact GCRA (B + ⌊t/T⌋ + N·S, one agent, S ≤ B).
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trackE2eProcesses } from "../helpers/admin-agent.ts";
import { startAgent } from "../helpers/agent-process.ts";
import { freePort } from "../helpers/ports.ts";
import { clientIp, connectSpop } from "../helpers/spop-socket.ts";
import { startValkey, VALKEY_VERSIONS, valkeyLabel } from "../helpers/valkey.ts";

/** 1000 per second (T = 1 ms), burst B = 100 (τ = 99 ms). */
const T_US = 1000;
const B = 100;
const { agents: started, sockets, valkeys, dirs } = trackE2eProcesses();

for (const version of VALKEY_VERSIONS) {
  describe(`hot keys through the agent, ${valkeyLabel(version)}`, () => {
    test("a client above hotKeyRate is decided from slices, within B + ⌊t/T⌋ + S of exact GCRA", async () => {
      const valkey = await startValkey({ version });
      valkeys.push(valkey);
      const dir = mkdtempSync(join(tmpdir(), "spoa-hot-"));
      dirs.push(dir);
      const config = join(dir, "agent.yaml");
      writeFileSync(config, `store:\n  valkey:\n    url: ${valkey.url}\n    hotKeyRate: 200\n`);
      const port = await freePort();
      const agent = await startAgent({
        runtime: "bun",
        args: ["serve", "--config", config, "--listen", `127.0.0.1:${port}`, "--metrics", "off"],
        env: { SPOA_RATE_INTERVAL: String(T_US), SPOA_RATE_BURST: String((B - 1) * T_US) },
      });
      started.push(agent);
      const spop = await connectSpop(port);
      sockets.push(spop);
      const start = performance.now();
      let allowed = 0;
      // Sequential requests from one client, for 2.5 s: a few thousand per second, well above both
      // the threshold (200/s) and the limit (1000/s).
      while (performance.now() - start < 2500) if ((await spop.check(clientIp(42))).allowed) allowed++;
      const elapsedUs = (performance.now() - start) * 1000;
      const presence = (await valkey.cli("KEYS", "*:agents")).split("\n").filter((k) => k.length > 0);
      expect(presence.length).toBe(1);
      expect(presence[0]).toContain("10.0.0.42");
      expect(Number(await valkey.cli("ZCARD", presence[0]))).toBe(1);
      // One agent: N·S ≤ B.
      expect(allowed).toBeLessThanOrEqual(B + Math.floor(elapsedUs / T_US) + B);
      expect(allowed).toBeGreaterThan(B);
    }, 30_000);
  });
}

/**
 * `check-config --probe`: the Valkey half of "will this configuration work?". Connects with the
 * configured topology and credentials, PINGs, runs the GCRA script once on a throwaway key
 * (deleted afterwards) and reports what happened and how long it took.
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import { redactUrl } from "../config/values.ts";
import type { ValkeyStoreOptions } from "../ratelimit/valkey/options.ts";
import { systemClock } from "../runtime/host-time.ts";

/** What the probe found; `lines` are for people, in order. */
export interface ProbeReport {
  /** True when Valkey answered PING and the script; also true when there is no Valkey to probe. */
  readonly ok: boolean;
  readonly lines: readonly string[];
}

/** How long the probe waits for a first connection, and for each call (a probe may be slow; it says so). */
const PROBE_WAIT_MS = 3_000;

/** "standalone redis://valkey:6379", "cluster …", "sentinel … master mymaster" (never a password). */
export function valkeyTarget(valkey: ValkeyStoreOptions): string {
  if (valkey.url !== undefined) return `standalone ${redactUrl(valkey.url)}`;
  if (valkey.nodes !== undefined) return `cluster ${valkey.nodes.map(redactUrl).join(", ")}`;
  return `sentinel ${(valkey.sentinels ?? []).join(", ")} master ${valkey.masterName ?? "?"}`;
}

const ms = (fromMs: number) => (performance.now() - fromMs).toFixed(1);

/** The fix for a connection error the probe met, in the settings' own names; undefined when there is no obvious one. */
export function probeHint(error: string): string | undefined {
  if (/NOAUTH/.test(error)) return "fix: Valkey wants a password — set VALKEY_PASSWORD or store.valkey.passwordFile (--valkey-password-file), and store.valkey.username for an ACL user";
  if (/WRONGPASS|invalid username-password/i.test(error)) return "fix: Valkey refused the user name or password — check VALKEY_PASSWORD / the password file and store.valkey.username (--valkey-username)";
  if (/ECONNREFUSED/.test(error)) return "fix: nothing listens there — start Valkey, or correct the address (--valkey-url / VALKEY_URL, --valkey-nodes, --valkey-sentinels)";
  if (/ENOTFOUND|EAI_AGAIN/.test(error)) return "fix: the host name does not resolve — correct the address (--valkey-url / VALKEY_URL)";
  if (/^no answer$/.test(error)) return "fix: something accepts connections there but does not answer: is it Valkey (a TLS port needs rediss://), or a firewall holding the connection?";
  return undefined;
}

/** Probes the Valkey of `config`; never throws for Valkey trouble (it is the report). */
export async function probeValkey(config: AgentConfig): Promise<ProbeReport> {
  const valkey = config.store.valkey;
  if (valkey === undefined) return { ok: true, lines: ["Valkey probe: no Valkey configured (in-memory store); nothing to probe"] };
  const target = valkeyTarget(valkey);
  const errors: string[] = [];
  // A refused connection or a refused login will not heal within the wait: report it at once.
  // (Standalone only: a cluster seed node may refuse while the others answer.)
  let fatal = (): void => {};
  const fatalError = new Promise<undefined>((resolve) => (fatal = () => resolve(undefined)));
  const { createValkeyStore } = await import("../ratelimit/valkey/store.ts");
  const begun = performance.now();
  const opening = createValkeyStore({ ...valkey, keyPrefix: "", deadlineMs: Math.max(valkey.deadlineMs, PROBE_WAIT_MS), connections: 1 }, {
    clock: systemClock,
    connectWaitMs: PROBE_WAIT_MS,
    log: (_level, msg, fields) => {
      const text = `${msg}: ${String(fields.error ?? fields.code ?? "")}`;
      errors.push(text);
      if (valkey.url !== undefined && /NOAUTH|WRONGPASS|invalid username-password|ECONNREFUSED|ENOTFOUND/i.test(text)) fatal();
    },
  });
  const failed = (what: string): ProbeReport => {
    const why = errors.length > 0 ? errors[errors.length - 1] : "no answer";
    const hint = probeHint(why);
    return { ok: false, lines: [`Valkey probe: FAILED (${target})`, `  ${what}: ${why}`, ...(hint === undefined ? [] : [`  ${hint}`])] };
  };
  const store = await Promise.race([opening, fatalError]);
  if (store === undefined) {
    void opening.then((s) => s.close()).catch(() => undefined);
    return failed(`connection failed after ${ms(begun)} ms`);
  }
  try {
    let started = performance.now();
    // Unanswered: the time since the connection was opened, the first connection's wait included.
    if (!(await store.ping())) return failed(`PING unanswered after ${ms(begun)} ms`);
    const pingMs = ms(started);
    // A hash-tagged key of its own, so a cluster routes it like any limit key; deleted below.
    const key = `${config.store.keyPrefix}{probe:${crypto.randomUUID()}}`;
    started = performance.now();
    let decision;
    try {
      decision = await store.check([{ key, params: { emissionIntervalUs: 1_000_000, burstToleranceUs: 0 }, cost: 1, shadow: false }]);
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
      return failed("GCRA script failed");
    }
    const scriptMs = ms(started);
    try {
      await store.deleteKey(key);
    } catch {
      // The key expires on its own within a second (T = 1 s, no burst).
    }
    const slow = Number(scriptMs) > valkey.deadlineMs
      ? [`  slower than store.valkey.deadlineMs (${valkey.deadlineMs} ms): such decisions would go to the failure policy (${config.store.failurePolicy})`]
      : [];
    return {
      ok: true,
      lines: [
        `Valkey probe: OK (${target})`,
        `  PING answered in ${pingMs} ms`,
        `  GCRA script ran on a throwaway key in ${scriptMs} ms: ${decision.allowed ? "allowed" : "denied"} (key deleted; decision deadline ${valkey.deadlineMs} ms)`,
        ...slow,
      ],
    };
  } finally {
    await store.close().catch(() => undefined);
  }
}

/**
 * Liveness and readiness. Ready means: the SPOP listener is bound, the agent is not draining,
 * and it can decide (store reachable, or a failure policy that decides without it).
 * @module
 */

/** What `canDecide` may answer: a plain boolean, or a verdict with the reason shown on /readyz. */
export type DecideVerdict = boolean | { readonly ok: boolean; readonly reason?: string };

/** The answer of a probe: HTTP status and a short JSON-able body. */
export interface ProbeResult {
  readonly status: 200 | 503;
  readonly body: { readonly status: "ok" | "ready" | "not ready"; readonly reason?: string };
}

/** Readiness state the CLI flips and the HTTP handler reads. */
export interface Health {
  /** The SPOP listener is bound (true) or closed (false). */
  setListening(listening: boolean): void;
  /** Shutdown began: report not ready so load balancers and HAProxy checks stop sending. */
  setDraining(draining: boolean): void;
  /** /readyz */
  readiness(): ProbeResult;
  /** /healthz: answering at all proves the event loop runs. */
  liveness(): ProbeResult;
}

/** Creates the readiness state; `canDecide` is asked on every /readyz. */
export function createHealth(options: { readonly canDecide?: () => DecideVerdict } = {}): Health {
  let listening = false;
  let draining = false;
  const canDecide = options.canDecide ?? (() => true);
  return {
    setListening(value) {
      listening = value;
    },
    setDraining(value) {
      draining = value;
    },
    readiness() {
      if (draining) return notReady("draining");
      if (!listening) return notReady("not listening");
      let verdict: DecideVerdict;
      try {
        verdict = canDecide();
      } catch (error) {
        return notReady(`readiness check failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      const ok = typeof verdict === "boolean" ? verdict : verdict.ok;
      // Ready but degraded (Valkey down under a failure policy that still decides) says why.
      const reason = typeof verdict === "boolean" ? undefined : verdict.reason;
      if (ok) return { status: 200, body: reason === undefined ? { status: "ready" } : { status: "ready", reason } };
      return notReady(typeof verdict === "boolean" ? "cannot decide: store unavailable" : (verdict.reason ?? "cannot decide"));
    },
    liveness() {
      return { status: 200, body: { status: "ok" } };
    },
  };
}

function notReady(reason: string): ProbeResult {
  return { status: 503, body: { status: "not ready", reason } };
}

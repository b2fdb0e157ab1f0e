/**
 * The e2e benchmark's HAProxy configuration (2.6 … 3.4; the agent's backend in `mode spop` from 3.1): two frontends identical but for the SPOE
 * filter, both sending to a backend HAProxy answers itself, so the difference is the agent.
 * @module
 */

/** Ports of the configuration. */
export interface BenchPorts {
  readonly withAgent: number;
  readonly withoutAgent: number;
  readonly agent: number;
  /** With `response`: a frontend of the same HAProxy that plays the application (see haproxyConfig). */
  readonly origin?: number;
}

/**
 * Which variables the frontends read: `shipped` = the 429 rule and the RateLimit headers of
 * deploy/haproxy; `deny` = the 429 rule alone (a deployment that reads one or two variables).
 */
export type BenchRules = "shipped" | "deny";

/** haproxy.cfg text; `spoeConf` is the path of spoeConfig()'s file. */
export function haproxyConfig(ports: BenchPorts, spoeConf: string, ruleSet: BenchRules = "shipped", agentMode: "tcp" | "spop" = "tcp", response = false): string {
  // The rules both frontends share: the deny rule and the RateLimit headers are no-ops without
  // the filter, but keep the per-request work identical apart from the SPOE exchange.
  const deny = `    http-request return status 429 content-type text/plain string "Too Many Requests" if { var(txn.rl.allowed) -m found } !{ var(txn.rl.allowed) -m bool }`;
  const headers = `
    http-after-response set-header RateLimit "%[var(txn.rl.ratelimit)]" if { var(txn.rl.ratelimit) -m found }
    http-after-response set-header RateLimit-Policy "%[var(txn.rl.ratelimit_policy)]" if { var(txn.rl.ratelimit_policy) -m found }`;
  const rules = `${deny}${ruleSet === "shipped" ? headers : ""}
    default_backend be_ok`;
  return `global
    nbthread 1
    maxconn 4000

defaults
    mode http
    timeout connect 5s
    timeout client  30s
    timeout server  30s

frontend fe_agent
    bind 127.0.0.1:${ports.withAgent}
    filter spoe engine ratelimit config ${spoeConf}
${rules}

frontend fe_plain
    bind 127.0.0.1:${ports.withoutAgent}
${rules}

${response && ports.origin !== undefined ? `# A response HAProxy generates itself sends no response message: be_ok forwards to an
# origin frontend (same HAProxy, same thread) that answers with x-tokens-used.
backend be_ok
    server origin 127.0.0.1:${ports.origin}

frontend fe_origin
    bind 127.0.0.1:${ports.origin}
    http-request return status 200 content-type text/plain string "ok" hdr x-tokens-used 1
` : `backend be_ok
    http-request return status 200 content-type text/plain string "ok"
`}
backend be_spoa
    mode ${agentMode}
    timeout connect 2s
    timeout server  3m
    server agent 127.0.0.1:${ports.agent}
`;
}

/**
 * spoe.conf text: the seed's message (ip_fwd, ip_xff, ip_src) on every request; with `response`,
 * also the shipped check-response message (sent only when the agent set txn.rl.ticket).
 */
export function spoeConfig(response = false): string {
  const responseMessage = `
spoe-message check-response
    args ticket=var(txn.rl.ticket) tokens=res.hdr(x-tokens-used)
    event on-http-response if { var(txn.rl.ticket) -m found }
`;
  return `[ratelimit]
spoe-agent ratelimit-agent
    messages check-rate${response ? " check-response" : ""}
    option var-prefix rl
    option set-on-error err
    option continue-on-error
    timeout hello 2s
    timeout idle  2m
    timeout processing 500ms
    no option async
    no option send-frag-payload
    use-backend be_spoa

spoe-message check-rate
    args ip_fwd=req.fhdr(forwarded) ip_xff=req.fhdr(x-forwarded-for) ip_src=src
    event on-frontend-http-request
${response ? responseMessage : ""}`;
}

/**
 * One circuit breaker per store node. In a Valkey cluster each key lives on one primary; when
 * that primary dies only its keys should go to the failure policy, while keys on the other
 * primaries keep deciding on Valkey. Standalone and sentinel stores have one node ("").
 * @module
 */
import { type BreakerOptions, type BreakerState, CircuitBreaker } from "./breaker.ts";
import type { Clock } from "../store.ts";

/** A change of one node's breaker, with the worst state over all nodes (readiness, metrics). */
export interface NodeBreakerChange {
  readonly node: string;
  readonly state: BreakerState;
  readonly worst: BreakerState;
}

const RANK: Readonly<Record<BreakerState, number>> = { closed: 0, "half-open": 1, open: 2 };

/** Breakers by node name, created on first use. */
export class NodeBreakers {
  readonly #options: BreakerOptions & { readonly clock: Clock };
  readonly #onChange: (change: NodeBreakerChange) => void;
  readonly #byNode = new Map<string, CircuitBreaker>();
  /** The single-node case without a map lookup. */
  #only: CircuitBreaker | undefined;

  constructor(options: BreakerOptions & { readonly clock: Clock; readonly onChange?: (change: NodeBreakerChange) => void }) {
    this.#options = options;
    this.#onChange = options.onChange ?? (() => {});
  }

  /** The breaker of `node`. */
  of(node: string): CircuitBreaker {
    if (node === "" && this.#only !== undefined) return this.#only;
    let breaker = this.#byNode.get(node);
    if (breaker === undefined) {
      breaker = new CircuitBreaker({ ...this.#options, onChange: (state) => this.#onChange({ node, state, worst: this.worst }) });
      this.#byNode.set(node, breaker);
      if (node === "") this.#only = breaker;
    }
    return breaker;
  }

  /** The worst state over every node: open if any node is open. */
  get worst(): BreakerState {
    let worst: BreakerState = "closed";
    for (const breaker of this.#byNode.values()) {
      const state = breaker.state;
      if (RANK[state] > RANK[worst]) worst = state;
    }
    return worst;
  }

  /** Nodes whose breaker is not closed, for readiness messages. */
  notClosed(): string[] {
    const nodes: string[] = [];
    for (const [node, breaker] of this.#byNode) if (breaker.state !== "closed") nodes.push(node === "" ? "valkey" : node);
    return nodes;
  }
}

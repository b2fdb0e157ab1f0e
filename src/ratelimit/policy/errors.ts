/**
 * The policy domain's error.
 * @module
 */

/** A limit definition that cannot be compiled (bad regex, CIDR, duplicate name, key prefix). */
export class PolicyError extends Error {
  override name = "PolicyError";
}

/**
 * The IP-reputation handler: HAProxy sends message `check-rate` with the client address as
 * `ip_src`; the answer is `sess.<var-prefix>.ip_score` from a static list (0 = unknown …
 * 100 = known bad), and HAProxy denies with `ip_score ge 80`.
 */
import { dataAddress, findArg, type NamedData, type NotifyHandler, parseCidrList, setVar } from "@spoa-gcra/spoa-gcra";

/** Networks and their score; the first match wins. */
export type ReputationList = readonly (readonly [cidr: string, score: number])[];

// 127.0.0.2 lets you try it locally: `curl --interface 127.0.0.2 …` is a listed client, plain `curl` is not.
export const REPUTATION: ReputationList = [
  ["192.0.2.0/24", 100],
  ["198.51.100.0/24", 85],
  ["2001:db8:bad::/48", 90],
  ["127.0.0.2", 95],
];

export function reputationHandler(list: ReputationList = REPUTATION): NotifyHandler {
  const lists = list.map(([cidr, score]) => ({ networks: parseCidrList([cidr]), score }));
  const score = (args: readonly NamedData[]): number => {
    const arg = findArg(args, "ip_src");
    const address = arg === undefined ? undefined : dataAddress(arg);
    if (address === undefined) return 0;
    return lists.find((entry) => entry.networks.contains(address))?.score ?? 0;
  };
  return {
    handle: (messages) =>
      messages.filter((message) => message.name === "check-rate").map((message) => setVar("sess", "ip_score", score(message.args))),
    // Nothing to say when scoring fails: HAProxy then sees no ip_score and lets the request through.
    failureActions: () => [],
  };
}

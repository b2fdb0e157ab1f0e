/**
 * Assembles ValkeyStoreOptions: picks the topology, resolves the password from env or a secret
 * file, and reads the TLS PEM files.
 * @module
 */
import type { IssueSink } from "./errors.ts";
import type { Resolved } from "./resolved.ts";
import { resolveSecret } from "./secret.ts";
import type { ValkeyStoreOptions } from "../ratelimit/valkey/options.ts";

/** Drops keys whose value is undefined, so `"url" in options` means a url was configured. */
function defined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T;
}

function tls(r: Resolved, readFile: (path: string) => string, sink: IssueSink): ValkeyStoreOptions["tls"] {
  const pem = (key: string) => {
    const path = r.getOptional<string>(key);
    if (path === undefined) return undefined;
    try {
      return readFile(path);
    } catch (error) {
      sink.add(r.labelOf(key) ?? key, `cannot read "${path}": ${(error as Error).message}`);
      return undefined;
    }
  };
  const hasCert = r.getOptional("store.valkey.tls.certFile") !== undefined;
  const hasKey = r.getOptional("store.valkey.tls.keyFile") !== undefined;
  if (hasCert !== hasKey) {
    const [set, missing] = hasCert ? ["certFile", "keyFile"] : ["keyFile", "certFile"];
    sink.add(r.labelOf(`store.valkey.tls.${set}`) ?? `store.valkey.tls.${set}`, `a client certificate needs both certFile and keyFile`, `set store.valkey.tls.${missing} too`);
  }
  const options = {
    ca: pem("store.valkey.tls.caFile"),
    cert: pem("store.valkey.tls.certFile"),
    key: pem("store.valkey.tls.keyFile"),
    serverName: r.getOptional<string>("store.valkey.tls.serverName"),
  };
  const explicit = r.rankOf("store.valkey.tls.rejectUnauthorized") > 0;
  const used = Object.values(options).some((v) => v !== undefined) || explicit;
  return used ? defined({ ...options, rejectUnauthorized: r.get<boolean>("store.valkey.tls.rejectUnauthorized") }) : undefined;
}

/** The password and TLS files in use (watched: a rotated secret reloads), or undefined when none. */
function secretFiles(r: Resolved): readonly string[] | undefined {
  const keys = ["store.valkey.passwordFile", "store.valkey.tls.caFile", "store.valkey.tls.certFile", "store.valkey.tls.keyFile"];
  const files = keys.map((key) => r.getOptional<string>(key)).filter((file): file is string => file !== undefined);
  return files.length > 0 ? files : undefined;
}

/** The Valkey options, or undefined when no url, nodes or sentinels are configured (memory store). */
export function valkeyOptions(
  r: Resolved,
  options: { readonly keyPrefix: string; readonly readFile: (path: string) => string; readonly sink: IssueSink },
): ValkeyStoreOptions | undefined {
  const { keyPrefix, readFile, sink } = options;
  const url = r.getOptional<string>("store.valkey.url");
  const nodes = r.getOptional<readonly string[]>("store.valkey.nodes");
  const sentinels = r.getOptional<readonly string[]>("store.valkey.sentinels");
  const topologies = [["url", url], ["nodes", nodes], ["sentinels", sentinels]].filter(([, v]) => v !== undefined && (!Array.isArray(v) || v.length > 0));
  if (topologies.length === 0) return undefined;
  if (topologies.length > 1) {
    const names = topologies.map(([k]) => `store.valkey.${k}`);
    sink.add(r.labelOf(names[1]) ?? names[1], `${names.join(" and ")} are both set: choose one of standalone url, cluster nodes or sentinels`);
  }
  const masterName = r.getOptional<string>("store.valkey.masterName");
  if (sentinels !== undefined && sentinels.length > 0 && masterName === undefined) {
    sink.add(r.labelOf("store.valkey.sentinels") ?? "store.valkey.sentinels", "sentinels need a master name", "set store.valkey.masterName, --valkey-master or VALKEY_MASTER_NAME");
  }
  const db = r.getOptional<number>("store.valkey.db");
  if (nodes !== undefined && nodes.length > 0 && db !== undefined && db !== 0) {
    sink.add(r.labelOf("store.valkey.db") ?? "store.valkey.db", "a Valkey cluster has only database 0", "remove store.valkey.db");
  }
  return defined({
    url,
    nodes,
    sentinels,
    masterName,
    username: r.getOptional<string>("store.valkey.username"),
    password: resolveSecret(r, { key: "store.valkey.password", fileKey: "store.valkey.passwordFile" }, { readFile, sink }),
    db,
    tls: tls(r, readFile, sink),
    secretFiles: secretFiles(r),
    keyPrefix,
    deadlineMs: r.get<number>("store.valkey.deadlineMs"),
    connections: r.get<number>("store.valkey.connections"),
    batch: r.get<boolean>("store.valkey.batch"),
    batchDelayMs: r.get<number>("store.valkey.batchDelayMs"),
    hotKeyRate: r.get<number>("store.valkey.hotKeyRate"),
  });
}

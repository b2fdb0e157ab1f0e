/**
 * A secret given either directly (an env var) or as a file path (a mounted Secret): the
 * stronger source wins, both at the same strength is an error, a file is read and its one
 * trailing newline dropped.
 * @module
 */
import type { IssueSink } from "./errors.ts";
import type { Resolved } from "./resolved.ts";

/** Reads a secret file; one trailing newline (from `echo` or a mounted Secret) is not part of it. */
export function readSecretFile(path: string, label: string, readFile: (path: string) => string, sink: IssueSink): string | undefined {
  try {
    return readFile(path).replace(/\r?\n$/, "");
  } catch (error) {
    sink.add(label, `cannot read "${path}": ${(error as Error).message}`);
    return undefined;
  }
}

/** The secret of field `key` or of the file named by field `fileKey`; undefined when neither is set. */
export function resolveSecret(
  r: Resolved,
  fields: { readonly key: string; readonly fileKey: string },
  io: { readonly readFile: (path: string) => string; readonly sink: IssueSink },
): string | undefined {
  const file = r.getOptional<string>(fields.fileKey);
  const fileRank = r.rankOf(fields.fileKey);
  const secret = r.getOptional<string>(fields.key);
  const secretRank = r.rankOf(fields.key);
  if (file !== undefined && secret !== undefined && fileRank === secretRank) {
    const a = r.labelOf(fields.key) ?? fields.key;
    const b = r.labelOf(fields.fileKey) ?? fields.fileKey;
    io.sink.add(a, `both ${a.replace(/^env /, "")} and ${b.replace(/^env /, "")} are set`, "set only one of them");
    return undefined;
  }
  if (file !== undefined && fileRank > secretRank) {
    return readSecretFile(file, r.labelOf(fields.fileKey) ?? fields.fileKey, io.readFile, io.sink);
  }
  return secret;
}

// What gcr.io/distroless/cc-debian12 provides to a dynamically linked executable, so a test
// can check `ldd dist/spoa-gcra` against it without pulling the image. cc-debian12 is
// base-debian12 (libc6, libssl3, ca-certificates, tzdata, netbase) plus libgcc-s1, libgomp1
// and libstdc++6 (GoogleContainerTools/distroless, cc/BUILD and base/BUILD, Debian 12).

/** Debian packages in the image that ship shared libraries. */
export const DISTROLESS_CC_PACKAGES = ["libc6", "libgcc-s1", "libgomp1", "libstdc++6", "libssl3"] as const;

/** Sonames present in the image (x86_64 and aarch64 dynamic loaders included), by package. */
export const DISTROLESS_CC_LIBS: Readonly<Record<(typeof DISTROLESS_CC_PACKAGES)[number], readonly string[]>> = {
  libc6: [
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
    "libc.so.6",
    "libm.so.6",
    "libmvec.so.1",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libresolv.so.2",
    "libutil.so.1",
    "libanl.so.1",
    "libnss_files.so.2",
    "libnss_dns.so.2",
    "libBrokenLocale.so.1",
    "libc_malloc_debug.so.0",
    "libthread_db.so.1",
  ],
  "libgcc-s1": ["libgcc_s.so.1"],
  libgomp1: ["libgomp.so.1"],
  "libstdc++6": ["libstdc++.so.6"],
  libssl3: ["libssl.so.3", "libcrypto.so.3"],
};

/** Every soname of DISTROLESS_CC_LIBS. */
export function distrolessCcSonames(): ReadonlySet<string> {
  return new Set(Object.values(DISTROLESS_CC_LIBS).flat());
}

/** The sonames `ldd` output needs that distroless/cc does not provide (empty = the binary runs there). */
export function missingFromDistrolessCc(lddOutput: string): string[] {
  const provided = distrolessCcSonames();
  const needed = new Set<string>();
  for (const line of lddOutput.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("linux-vdso") || trimmed.startsWith("statically linked")) continue;
    const name = trimmed.split(/\s+/)[0].split("/").at(-1) ?? "";
    if (name !== "") needed.add(name);
  }
  return [...needed].filter((name) => !provided.has(name)).sort();
}

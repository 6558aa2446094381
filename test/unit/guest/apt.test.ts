import { describe, expect, it } from "vitest";
import {
  debFileName,
  kernelPackageOf,
  libraryClosure,
  parseDependsNames,
  parseRecords,
  parseRecursiveDepends,
  recordsOf,
  qualified,
  type PackageRecord,
} from "../../guest/apt.js";
import { GuestBuildError } from "../../guest/errors.js";

const rec = (name: string, section: string, depends: string[] = []): PackageRecord => ({
  name,
  version: "1",
  architecture: "amd64",
  section,
  depends,
});

const SHOW = `Package: socat
Version: 1.7.4.4-2
Architecture: amd64
Section: net
Depends: libc6 (>= 2.34), libssl3 (>= 3.0.0),
 libwrap0 (>= 7.6-4~)
Description: multipurpose relay
 long text: with a colon

Package: libc6
Version: 2.36-9+deb12u14
Architecture: amd64
Section: libs
Pre-Depends: libgcc-s1
Depends: libc6-dev | glibc-doc
`;

describe("apt records", () => {
  it("parses stanzas, continuation lines, Pre-Depends before Depends", () => {
    const [socat, libc] = parseRecords(SHOW);
    expect(socat).toEqual({
      name: "socat",
      version: "1.7.4.4-2",
      architecture: "amd64",
      section: "net",
      depends: ["libc6", "libssl3", "libwrap0"],
    });
    expect(libc?.depends).toEqual(["libgcc-s1", "libc6-dev"]);
  });

  it("keeps one architecture's records (and all) when two are configured (dpkg --add-architecture)", () => {
    const both = [
      rec("libc6", "libs"),
      { ...rec("libc6", "libs"), architecture: "arm64" },
      { ...rec("tzdata", ""), architecture: "all" },
    ];
    const names = (arch: string) => recordsOf(both, arch).map((r) => `${r.name}:${r.architecture}`);
    expect(names("amd64")).toEqual(["libc6:amd64", "tzdata:all"]);
    expect(names("arm64")).toEqual(["libc6:arm64", "tzdata:all"]);
  });

  it("takes the first alternative and drops versions and arch qualifiers", () => {
    expect(parseDependsNames("a (>= 1), b | c, d:any, ")).toEqual(["a", "b", "d"]);
    expect(parseDependsNames("")).toEqual([]);
  });

  it("names files as apt-get download does (epoch colon escaped)", () => {
    const busybox = { ...rec("busybox-static", ""), version: "1:1.35.0-4" };
    expect(debFileName(busybox)).toBe("busybox-static_1%3a1.35.0-4_amd64.deb");
  });

  it("finds the versioned kernel package behind the meta package", () => {
    const meta = rec("linux-image-amd64", "kernel", ["linux-image-6.1.0-56-amd64"]);
    expect(kernelPackageOf(meta)).toBe("linux-image-6.1.0-56-amd64");
    expect(() => kernelPackageOf({ ...meta, depends: [] })).toThrow(GuestBuildError);
  });

  it("asks apt for one architecture's package, except for Architecture: all", () => {
    expect(qualified("libc6", "arm64")).toBe("libc6:arm64");
    expect(qualified("tzdata", "all")).toBe("tzdata");
  });

  it("keeps arch qualifiers apt-cache depends prints for a qualified root", () => {
    const text = "runc:arm64\n  Depends: libc6:arm64\nlibc6:arm64\n  Depends: libgcc-s1:arm64\nlinux-base\n";
    expect(parseRecursiveDepends(text)).toEqual(["runc:arm64", "libc6:arm64", "linux-base"]);
  });

  it("reads package names from apt-cache depends --recurse, skipping virtual ones", () => {
    const text = "socat\n  Depends: libc6\n  Depends: <debconf-2.0>\nlibc6\n<debconf-2.0>\nsocat\n";
    expect(parseRecursiveDepends(text)).toEqual(["socat", "libc6"]);
  });
});

describe("libraryClosure", () => {
  const universe = new Map(
    [
      rec("socat", "net", ["libc6", "libwrap0"]),
      rec("cni", "net", ["iptables", "libc6"]),
      rec("iptables", "net", ["libxtables12"]),
      rec("libxtables12", "libs"),
      rec("libwrap0", "libs", ["libnsl2"]),
      rec("libnsl2", "libs", ["libc6"]),
      rec("libc6", "libs", ["libgcc-s1"]),
      rec("libgcc-s1", "libs"),
    ].map((r) => [r.name, r]),
  );
  const show = (names: string[]) =>
    Promise.resolve(names.flatMap((n) => (universe.has(n) ? [universe.get(n)!] : [])));

  it("follows dependencies only into library packages", async () => {
    const closure = await libraryClosure(["socat", "cni"], "libs", show);
    expect(closure.map((r) => r.name)).toEqual(["cni", "libc6", "libgcc-s1", "libnsl2", "libwrap0", "socat"]);
  });

  it("fails for a root apt does not know", async () => {
    await expect(libraryClosure(["nope"], "libs", show)).rejects.toThrow(/no candidate for nope/);
  });
});

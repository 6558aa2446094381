import { promises as fs } from "node:fs";
import { describe, expect, it } from "vitest";
import { ElfFormatError, isElf, readElfDeps } from "../../guest/elf.js";
import {
  MissingLibraryError,
  resolveLibraries,
  sysrootLookup,
  WrongMachineError,
} from "../../guest/libraries.js";
import { GUEST_ARCHES, libraryDirs } from "../../guest/spec.js";

const AMD64 = GUEST_ARCHES.amd64;
const HOST_LIBS = libraryDirs(AMD64);

// Real Debian binaries of packages scripts/ensure-deps.sh installs.
const DYNAMIC = "/usr/bin/socat";
const STATIC = "/bin/busybox";

describe("readElfDeps", () => {
  it("reads the machine, interpreter and NEEDED sonames of a dynamic binary", async () => {
    const deps = readElfDeps(await fs.readFile(DYNAMIC), DYNAMIC);
    expect(deps.machine).toBe(AMD64.elfMachine);
    expect(deps.interpreter).toBe("/lib64/ld-linux-x86-64.so.2");
    expect(deps.needed).toEqual(expect.arrayContaining(["libc.so.6", "libssl.so.3", "libwrap.so.0"]));
  });

  it("finds nothing to load for a static binary", async () => {
    expect(readElfDeps(await fs.readFile(STATIC), STATIC)).toEqual({ machine: 62, needed: [] });
  });

  it("rejects what is not ELF64 LSB, naming the file", () => {
    expect(isElf(Buffer.from("#!/bin/sh\n"))).toBe(false);
    expect(() => readElfDeps(Buffer.from("#!/bin/sh\n"), "script")).toThrow(
      new ElfFormatError("script: not an ELF file"),
    );
    const elf32 = Buffer.alloc(64);
    elf32.writeUInt32LE(0x464c457f, 0);
    elf32[4] = 1;
    expect(() => readElfDeps(elf32, "x")).toThrow(/64-bit little-endian/);
  });
});

describe("resolveLibraries", () => {
  it("follows NEEDED transitively in a tree, with the interpreter", async () => {
    const { libraries, interpreters } = await resolveLibraries([DYNAMIC], sysrootLookup("/", HOST_LIBS), 62);
    expect(interpreters).toEqual(["/lib64/ld-linux-x86-64.so.2"]);
    // libwrap.so.0 needs libnsl.so.2, which socat itself does not name.
    expect([...libraries.keys()]).toEqual(
      expect.arrayContaining([
        "ld-linux-x86-64.so.2",
        "libc.so.6",
        "libssl.so.3",
        "libcrypto.so.3",
        "libnsl.so.2",
      ]),
    );
    for (const file of libraries.values()) expect(isElf(await fs.readFile(file))).toBe(true);
  });

  it("names the missing soname and who needs it", async () => {
    const base = sysrootLookup("/", HOST_LIBS);
    const lookup = {
      ...base,
      find: (s: string) => (s === "libwrap.so.0" ? Promise.resolve(undefined) : base.find(s)),
    };
    await expect(resolveLibraries([DYNAMIC], lookup)).rejects.toThrow(
      new MissingLibraryError("libwrap.so.0", DYNAMIC).message,
    );
  });

  it("refuses a binary or library of another architecture than the guest's", async () => {
    await expect(
      resolveLibraries([DYNAMIC], sysrootLookup("/", HOST_LIBS), GUEST_ARCHES.arm64.elfMachine),
    ).rejects.toThrow(new WrongMachineError(DYNAMIC, 62, 183).message);
  });
});

import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT } from "../errors.js";
import { tempDir } from "../../test/launcher-support/tmp.js";
import { ensurePflashCopies, VIRT_FLASH_BYTES } from "./firmware.js";

describe("pflash copies for the virt machine", () => {
  it("pads the code to 64 MiB (sparse), makes blank variables once and keeps them across boots", async () => {
    const dir = await tempDir();
    const code = path.join(dir, "QEMU_EFI.fd");
    fs.writeFileSync(code, Buffer.alloc(2 * 2 ** 20, 0x5a));
    const files = {
      code: { source: code, copy: path.join(dir, "fw", "code-QEMU_EFI.fd") },
      vars: { source: "", copy: path.join(dir, "fw", "vars.fd") },
    };
    expect(await ensurePflashCopies(files, path.join(dir, "fw"))).toEqual({ varsCreated: true });
    const copy = fs.statSync(files.code.copy);
    expect(copy.size).toBe(VIRT_FLASH_BYTES);
    expect(copy.blocks * 512).toBeLessThan(VIRT_FLASH_BYTES / 4); // the padding is a hole
    const head = fs.readFileSync(files.code.copy).subarray(0, 2 * 2 ** 20 + 1);
    expect(head.subarray(0, 2 * 2 ** 20).every((b) => b === 0x5a)).toBe(true);
    expect(head[2 * 2 ** 20]).toBe(0);
    expect(fs.statSync(files.vars.copy).size).toBe(VIRT_FLASH_BYTES);

    fs.writeFileSync(files.vars.copy, Buffer.alloc(VIRT_FLASH_BYTES, 1)); // the guest wrote variables
    expect(await ensurePflashCopies(files, path.join(dir, "fw"))).toEqual({ varsCreated: false });
    expect(fs.readFileSync(files.vars.copy)[0]).toBe(1);
  });

  it("starts the variables from KVM_BIOS_VAR without ever writing that file", async () => {
    const dir = await tempDir();
    const code = path.join(dir, "code.fd");
    const vars = path.join(dir, "vars-template.fd");
    fs.writeFileSync(code, "c");
    fs.writeFileSync(vars, "template");
    const files = {
      code: { source: code, copy: path.join(dir, "fw", "code-code.fd") },
      vars: { source: vars, copy: path.join(dir, "fw", "vars.fd") },
    };
    await ensurePflashCopies(files, path.join(dir, "fw"));
    expect(fs.readFileSync(files.vars.copy).subarray(0, 8).toString()).toBe("template");
    expect(fs.readFileSync(vars, "utf8")).toBe("template");
  });

  it("names the variable of a missing or oversized file (exit 2)", async () => {
    const dir = await tempDir();
    const big = path.join(dir, "big.fd");
    fs.writeFileSync(big, "");
    fs.truncateSync(big, VIRT_FLASH_BYTES + 1);
    const files = (code: string) => ({
      code: { source: code, copy: path.join(dir, "fw", "code.fd") },
      vars: { source: "", copy: path.join(dir, "fw", "vars.fd") },
    });
    await expect(ensurePflashCopies(files(path.join(dir, "nope.fd")), dir)).rejects.toMatchObject({
      exitCode: EXIT.usage,
      message: expect.stringMatching(/^KVM_BIOS=.*nope\.fd: firmware file not found/),
    });
    await expect(ensurePflashCopies(files(big), dir)).rejects.toThrow(/more than the virt machine's 64 MiB/);
  });
});

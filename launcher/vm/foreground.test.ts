import { describe, expect, it } from "vitest";
import { EXIT } from "../errors.js";
import { foregroundExit } from "./foreground.js";

describe("how a foreground up (a service's ExecStart) ends", () => {
  it("0 when stopped on request: SIGTERM/SIGINT, or 'down' (its marker)", () => {
    expect(foregroundExit({ stopRequested: true, downRan: false, exit: { code: 0 } }).code).toBe(EXIT.ok);
    expect(foregroundExit({ stopRequested: false, downRan: true })).toEqual({
      code: EXIT.ok,
      message: "VM stopped by 'hydra-launcher down'",
    });
  });

  it("0 when the guest powered itself off (QEMU exit status 0)", () => {
    expect(foregroundExit({ stopRequested: false, downRan: false, exit: { code: 0 } }).code).toBe(EXIT.ok);
  });

  it("5 when QEMU died on its own, so Restart= brings the VM back", () => {
    expect(foregroundExit({ stopRequested: false, downRan: false, exit: { signal: "SIGKILL" } })).toEqual({
      code: EXIT.boot,
      message: "QEMU was killed by SIGKILL",
    });
    expect(foregroundExit({ stopRequested: false, downRan: false, exit: { code: 1 } }).message).toBe(
      "QEMU exited with status 1",
    );
    // A VM this launcher did not start (kept after 'up' found it running): no status to read.
    expect(foregroundExit({ stopRequested: false, downRan: false }).code).toBe(EXIT.boot);
  });
});

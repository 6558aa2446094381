// The pure half of test/harness/streaming-client.ts: channel framing, v4 status, port-forward URLs.
import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame, parseStatus, portForwardUrl } from "../harness/streaming-client.js";

describe("channel framing", () => {
  it("prefixes the channel byte and reads it back", () => {
    const f = encodeFrame(2, "err\n");
    expect([...f]).toEqual([2, 101, 114, 114, 10]);
    expect(decodeFrame(f)).toEqual({ channel: 2, data: Buffer.from("err\n") });
    expect(decodeFrame(encodeFrame(1))).toEqual({ channel: 1, data: Buffer.alloc(0) });
    expect(decodeFrame(Buffer.alloc(0))).toBeUndefined();
  });
});

describe("v4 status", () => {
  it("reads success, exit codes and other failures", () => {
    expect(parseStatus('{"metadata":{},"status":"Success"}')).toEqual({ success: true, exitCode: 0 });
    const exit = {
      status: "Failure",
      message: "command terminated with non-zero exit code: exit status 3",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    };
    expect(parseStatus(JSON.stringify(exit))).toEqual({
      success: false,
      exitCode: 3,
      message: exit.message,
      reason: "NonZeroExitCode",
    });
    expect(parseStatus('{"status":"Failure","message":"no such container"}')).toEqual({
      success: false,
      message: "no such container",
    });
    expect(parseStatus("plain text error")).toEqual({ success: false, message: "plain text error" });
  });
});

describe("port-forward URL", () => {
  it("adds one port query parameter per port, keeping the token path", () => {
    expect(portForwardUrl("http://127.0.0.1:35001/portforward/AbC", [8080, 9090])).toBe(
      "http://127.0.0.1:35001/portforward/AbC?port=8080&port=9090",
    );
  });
});

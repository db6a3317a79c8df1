// On the device Moddable freezes the built-in prototypes before main runs. An
// error class that assigns `this.name` then throws ("override mistake") at the
// first failure and aborts the app. This freezes Error.prototype the same way,
// in a child process (Node's own internals cannot live with it), and
// constructs every error class the firmware raises.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";

const root = path.resolve(import.meta.dirname, "../..");

const script = `
Object.freeze(Error.prototype);
const load = (p) => import(${JSON.stringify(root)} + p);
const { TransportError } = await load("/modules/ports.ts");
const { RpcError } = await load("/modules/rpc/status.ts");
const { HttpParseError } = await load("/modules/app/http1-response.ts");
const { ProtoDecodeError } = await load("/modules/proto/reader.ts");
const { PowerCutError } = await load("/modules/storage/nor-image.ts");
const names = [];
for (const make of [
  () => new TransportError("refused", "x"),
  () => new RpcError(14, "x"),
  () => new HttpParseError("x"),
  () => new ProtoDecodeError("x"),
  () => new PowerCutError("x"),
]) {
  try { const e = make(); names.push(e instanceof Error ? e.name : "not an Error"); }
  catch (error) { names.push("threw: " + error.message); }
}
console.log(JSON.stringify(names));
`;

test("firmware error classes construct with frozen built-ins (as on the device)", () => {
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: root,
    encoding: "utf8",
  });
  assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), [
    "TransportError",
    "RpcError",
    "HttpParseError",
    "ProtoDecodeError",
    "PowerCutError",
  ]);
});

// The cloud address is parsed strictly: scheme://host[:port][/] and nothing else, each refusal a clear
// error naming the field and the part that is wrong.
import { parseCloudAddress } from "../../modules/app/cloud-address";
import { loadCredentials } from "../../modules/app/credentials";
import { assert, test } from "../harness/index";
import { MemoryKv } from "./boot-fixtures";

const refused: [string, string, RegExp][] = [
  ["user info", "https://user@app.viam.com", /has user info \(user@host\)/],
  ["user and password", "https://user:secret@app.viam.com:443", /has user info/],
  ["user info after the port", "https://app.viam.com:443@evil.example", /has user info/],
  ["NUL in the host", "https://app.viam.com\u0000.evil.example", /control character 0x0 at character 21/],
  ["NUL at the end", "https://app.viam.com\u0000", /control character 0x0/],
  ["a newline", "https://app.viam.com\n", /control character 0xa/],
  ["a tab", "https://app.viam.com\t:443", /control character 0x9/],
  ["DEL", "https://app\u007f.viam.com", /control character 0x7f/],
  ["a space inside", "https://app viam.com", /a space at character 12/],
  ["a leading space", " https://app.viam.com", /a space at character 1\b/],
  ["a trailing space", "https://app.viam.com ", /a space at character 21/],
  ["non-ASCII host", "https://äpp.viam.com", /non-ASCII character .*punycode/],
  ["port 0", "https://app.viam.com:0", /port 0 is out of range/],
  ["port 65536", "https://app.viam.com:65536", /port 65536 is out of range/],
  ["port 99999", "https://app.viam.com:99999", /port 99999 is out of range/],
  ["port of 6 digits", "https://app.viam.com:000443", /port "000443" is not a number of 1 to 5 digits/],
  ["non-digit port", "https://app.viam.com:44a", /port "44a" is not a number/],
  ["negative port", "https://app.viam.com:-1", /port "-1"/],
  ["empty port", "https://app.viam.com:", /port "" is not a number/],
  ["two ports", "https://app.viam.com:443:443", /port "443:443"/],
  ["empty host", "https://", /host is empty/],
  ["empty host with port", "https://:443", /host is empty/],
  ["empty label", "https://app..viam.com", /empty label/],
  ["trailing dot", "https://app.viam.com.", /empty label/],
  [
    "label with underscore",
    "https://app_1.viam.com",
    /label "app_1" is not letters, digits and inner hyphens/,
  ],
  ["label starting with a hyphen", "https://-app.viam.com", /label "-app"/],
  ["label longer than 63", `https://${"a".repeat(64)}.com`, /label longer than 63/],
  ["host longer than 253", `https://${"a.".repeat(127)}com`, /host is longer than 253/],
  ["a path", "https://app.viam.com/api", /has a path, query or fragment/],
  ["a query", "https://app.viam.com?x=1", /has a path, query or fragment/],
  ["a fragment", "https://app.viam.com#top", /has a path, query or fragment/],
  ["a path after the port", "https://app.viam.com:443//", /has a path/],
  ["a backslash", "https://app.viam.com\\x", /label .* is not letters/],
  ["IPv6 literal", "https://[::1]:8080", /IPv6 literal hosts are not supported/],
  ["bad IPv4", "http://999.1.1.1:8080", /not a dotted IPv4 address/],
  ["short IPv4", "http://127.1:8080", /not a dotted IPv4 address/],
  ["IPv4 with a leading zero", "http://127.0.0.01:8080", /not a dotted IPv4 address/],
  ["no scheme", "app.viam.com:443", /is not of the form https:\/\/host\[:port\]/],
  ["another scheme", "ftp://app.viam.com", /scheme "ftp" is not https/],
  ["empty", "", /is empty/],
  ["very long", `https://app.viam.com/${"x".repeat(500)}`, /longer than 300 characters/],
];

for (const [name, text, why] of refused) {
  test(`cloud address: ${name} is refused with a clear error`, () => {
    let message = "";
    try {
      parseCloudAddress(text);
    } catch (error) {
      message = (error as Error).message;
    }
    assert.ok(message !== "", `accepted ${JSON.stringify(text)}`);
    assert.ok(message.startsWith("app_address "), message);
    assert.ok(why.test(message), message);
    // The message never carries a raw control character (it goes to logs and serial consoles).
    for (let i = 0; i < message.length; i++)
      assert.ok(message.charCodeAt(i) >= 0x20, `raw control in ${message}`);
    assert.ok(message.length < 200, message);
  });
}

test("cloud address: the forms Viam and a local cloud use are accepted", () => {
  const cases: [string, { secure: boolean; host: string; port: number }][] = [
    ["https://app.viam.com:443", { secure: true, host: "app.viam.com", port: 443 }],
    ["https://app.viam.com", { secure: true, host: "app.viam.com", port: 443 }],
    ["https://app.viam.com/", { secure: true, host: "app.viam.com", port: 443 }],
    ["HTTPS://App.Viam.COM:8443/", { secure: true, host: "app.viam.com", port: 8443 }],
    ["http://127.0.0.1:8080", { secure: false, host: "127.0.0.1", port: 8080 }],
    ["http://localhost", { secure: false, host: "localhost", port: 80 }],
    ["http://my-cloud.local:1", { secure: false, host: "my-cloud.local", port: 1 }],
    ["https://a.b:65535", { secure: true, host: "a.b", port: 65535 }],
    ["https://10.0.0.255:00443", { secure: true, host: "10.0.0.255", port: 443 }],
    [`https://${"a".repeat(63)}.com`, { secure: true, host: `${"a".repeat(63)}.com`, port: 443 }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseCloudAddress(text), want, text);
});

test("cloud address: the field is named, in NVS credentials too", () => {
  assert.throws(
    () => parseCloudAddress("https://u@h", "cloud.app_address"),
    /^cloud\.app_address "https:\/\/u@h": has user info/,
  );
  const kv = new MemoryKv();
  kv.set("part_id", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  kv.set("part_secret", "s");
  kv.set("app_address", "https://user@app.viam.com");
  const result = loadCredentials(kv);
  assert.ok(!result.ok);
  if (!result.ok)
    assert.ok(/app_address.*has user info/.test(result.problems.join(" | ")), result.problems.join(" | "));
});

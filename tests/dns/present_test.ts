import assert from "node:assert/strict";
import { escapeText, presentName } from "../../src/dns/present.ts";

Deno.test("presentName escapes as miekg/dns prints names (CoreDNS's logs)", () => {
  // Expected strings printed by miekg/dns v1.1.73 for the same labels, lowercased as CoreDNS's
  // state.Name() does.
  assert.equal(
    presentName("x\n[error] plugin/idetcd: forged line.example."),
    "x\\010[error]\\ plugin/idetcd:\\ forged\\ line.example.",
  );
  assert.equal(
    presentName("ex\\a\"p;le\x00\x7f'@().com."),
    "ex\\\\a\\\"p\\;le\\000\\127\\'\\@\\(\\).com.",
  );
  for (const plain of ["example.org.", ".", "_etcd-server._tcp.tf.local.", "*.a-b_c.d."]) {
    assert.equal(presentName(plain), plain);
  }
});

Deno.test("presentName: non-ASCII as UTF-8 bytes, never a raw line break", () => {
  assert.equal(presentName("ü.de."), "\\195\\188.de.");
  assert.equal(presentName("\u2028x\r"), "\\226\\128\\168x\\013");
  assert.equal(presentName("a\u{1F600}"), "a\\240\\159\\152\\128");
  for (let c = 0; c < 0x3000; c++) {
    const out = presentName(`a${String.fromCharCode(c)}b`);
    assert.ok(/^[\x21-\x7e]+$/.test(out.replaceAll("\\ ", "")), `U+${c.toString(16)}: ${out}`);
  }
});

Deno.test("escapeText keeps spaces and escapes control characters and backslashes", () => {
  assert.equal(escapeText("upstream said no"), "upstream said no");
  assert.equal(
    escapeText("bad\n[ERROR] forged\\x\u0085"),
    "bad\\010[ERROR] forged\\\\x\\194\\133",
  );
});

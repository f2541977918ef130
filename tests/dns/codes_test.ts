/**
 * Our type, class and option names (src/dns/codes.ts) against dns-packet's own tables, for every
 * code and every name either side knows: the fast paths and dns-packet must spell them alike.
 */
import assert from "node:assert/strict";
import * as packetClasses from "dns-packet/classes.js";
import * as packetOptions from "dns-packet/optioncodes.js";
import * as packetTypes from "dns-packet/types.js";
import { classes, optionName, types } from "../../src/dns/codes.ts";

interface Table {
  toString(code: number): string;
}
const reference = {
  types: packetTypes as Table & { toType(name: string): number },
  classes: packetClasses as Table & { toClass(name: string): number },
  options: packetOptions as Table,
};

Deno.test("every type, class and option code is named as dns-packet names it", () => {
  for (let code = 0; code <= 0xffff; code++) {
    assert.equal(types.toString(code), reference.types.toString(code), `type ${code}`);
    assert.equal(classes.toString(code), reference.classes.toString(code), `class ${code}`);
    assert.equal(optionName(code), reference.options.toString(code), `option ${code}`);
  }
});

Deno.test("every name maps to the code dns-packet gives it, in any case", () => {
  const names = new Set<string>(["*", "UNKNOWN_300", "unknown_7", "NOPE", "", "a", "Srv"]);
  for (let code = 0; code <= 0xffff; code++) {
    names.add(reference.types.toString(code));
    names.add(reference.classes.toString(code));
  }
  for (const name of names) {
    for (const spelt of [name, name.toLowerCase()]) {
      assert.equal(types.toType(spelt), reference.types.toType(spelt), `type ${spelt}`);
      assert.equal(classes.toClass(spelt), reference.classes.toClass(spelt), `class ${spelt}`);
    }
  }
});

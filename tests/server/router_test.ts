import assert from "node:assert/strict";
import { type Route, ZoneRouter } from "../../src/server/router.ts";

function routerOf(zones: string[]): ZoneRouter {
  const router = new ZoneRouter();
  for (const zone of zones) assert.ok(router.add({ zone, chain: null }));
  return router;
}

/** The longest zone containing `name`, by the definition: equal, or a suffix after a dot. */
function expected(name: string, zones: string[]): string | undefined {
  let best: string | undefined;
  for (const z of zones) {
    const inside = z === "." || name === z || (name.endsWith(z) && name.at(-z.length - 1) === ".");
    if (inside && (best === undefined || z.length > best.length)) best = z;
  }
  return best;
}

const NAMES = [
  ".",
  "org.",
  "example.org.",
  "www.example.org.",
  "a.b.example.org.",
  "xexample.org.",
  "ample.org.",
  "example.org.example.",
  "b.example.",
  "deep.a.b.c.d.example.net.",
];

for (const count of [3, 40]) {
  Deno.test(`the longest zone wins, by label boundary (${count} zones)`, () => {
    const zones = ["example.org.", "a.b.example.org.", "org.", "example."];
    for (let i = zones.length; i < count; i++) zones.push(`z${i}.example.net.`);
    for (const withRoot of [false, true]) {
      const all = withRoot ? [...zones, "."] : zones;
      const router = routerOf(all);
      for (const name of NAMES) {
        const route: Route | undefined = router.match(name);
        assert.equal(route?.zone, expected(name, all), `${name} in ${all.length} zones`);
      }
    }
  });
}

Deno.test("a zone is taken once per listener", () => {
  const router = routerOf(["example.org."]);
  assert.equal(router.add({ zone: "example.org.", chain: null }), false);
  assert.deepEqual(router.zones, ["example.org."]);
});

// The JS side of gb-cli's `js_remote_eval` test (issue 14): the real JS SDK against `gb serve`.
//   node remote_eval_check.js API_HOST WORKLOAD_JSON BOOTSTRAP_JSON
// 1. For every workload user: the JS SDK in `remoteEval` mode, pointed at API_HOST
//    (POST /api/eval/{key}), must give every feature the value the JS SDK gives evaluating
//    the payload locally, and fire its tracking callback for the same experiments.
// 2. BOOTSTRAP_JSON = {"payload": <gb-sdk client.payload()>, "rust": [[value per feature] per user]}:
//    a JS client initialised from that payload must evaluate every user as the Rust client did.
// Prints one JSON summary line; exits 1 on any difference.
"use strict";
const fs = require("fs");
const { GrowthBook, GrowthBookClient, configureCache } = require("@growthbook/growthbook");

console.error = () => {};
console.log = () => {};
const print = (s) => process.stdout.write(s + "\n");

// Key-order independent JSON text, for comparing values.
function canon(v) {
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
  if (v && typeof v === "object") {
    return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canon(v[k])).join(",") + "}";
  }
  return JSON.stringify(v);
}

async function main() {
  const [apiHost, workloadPath, bootstrapPath] = process.argv.slice(2);
  const workload = JSON.parse(fs.readFileSync(workloadPath, "utf8"));
  const bootstrap = JSON.parse(fs.readFileSync(bootstrapPath, "utf8"));
  const payload = workload.payload;
  const keys = Object.keys(payload.features);
  const users = workload.users;
  // One request per user: no cross-user cache, no background sync (Node has no EventSource).
  configureCache({ disableCache: true, backgroundSync: false });

  const summary = { users: users.length, features: keys.length, remoteCompared: 0, bootstrapCompared: 0, tracked: 0, mismatches: [] };
  const mismatch = (m) => { if (summary.mismatches.length < 10) summary.mismatches.push(m); summary.failed = true; };

  // Local reference: a JS instance per user on the payload itself.
  const local = users.map((attributes) => {
    const tracks = [];
    const gb = new GrowthBook({ attributes, trackingCallback: (e, r) => tracks.push(e.key + ":" + r.variationId) });
    gb.initSync({ payload });
    const values = keys.map((k) => gb.evalFeature(k).value);
    gb.destroy();
    return { values, tracks: tracks.sort().join(",") };
  });

  // Remote evaluation against gb serve, 25 users at a time.
  for (let i = 0; i < users.length; i += 25) {
    await Promise.all(users.slice(i, i + 25).map(async (attributes, j) => {
      const u = i + j;
      const tracks = [];
      const gb = new GrowthBook({
        apiHost, clientKey: "sdk-dev", remoteEval: true, attributes,
        trackingCallback: (e, r) => tracks.push(e.key + ":" + r.variationId),
      });
      const res = await gb.init({ timeout: 10000 });
      if (!res.success) { mismatch({ user: u, error: String(res.error && res.error.message) }); gb.destroy(); return; }
      keys.forEach((k, f) => {
        const got = gb.evalFeature(k).value;
        summary.remoteCompared++;
        if (canon(got) !== canon(local[u].values[f])) mismatch({ mode: "remoteEval", user: u, feature: k, remote: got, local: local[u].values[f] });
      });
      const t = tracks.sort().join(",");
      summary.tracked += tracks.length;
      if (t !== local[u].tracks) mismatch({ mode: "tracking", user: u, remote: t, local: local[u].tracks });
      gb.destroy();
    }));
  }

  // Bootstrapped from the Rust client's payload().
  const client = new GrowthBookClient({});
  client.initSync({ payload: bootstrap.payload });
  users.forEach((attributes, u) => {
    keys.forEach((k, f) => {
      const got = client.evalFeature(k, { attributes }).value;
      summary.bootstrapCompared++;
      if (canon(got) !== canon(bootstrap.rust[u][f])) mismatch({ mode: "bootstrap", user: u, feature: k, js: got, rust: bootstrap.rust[u][f] });
    });
  });
  print(JSON.stringify(summary));
  process.exit(summary.failed ? 1 : 0);
}

main().catch((e) => { print(JSON.stringify({ error: String(e && e.stack) })); process.exit(2); });

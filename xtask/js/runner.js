// The JS side of `cargo xtask diff`: a long-lived process that evaluates batches with the
// reference SDK. One JSON batch per input line, one JSON answer per output line:
//   in:  {"payload": {...}, "features": ["f0", ...],
//         "users": [{"attributes": {...}, "url": "", "forcedVariations": {...}?,
//                    "forcedFeatures": {...}?, "qaMode": bool?, "enabled": bool?,
//                    "stickyDocs": {"attr||value": doc}?}],
//         "urlCases": [[url, urlPatterns], ...]?}
//   out: {"results": [[FeatureResult | {"threw": message}, ...] per user],
//         "docs": [sticky docs after the user's evaluations, or null],
//         "urls": [inExperiment | null per URL case]}
"use strict";
const readline = require("readline");
const { GrowthBookClient } = require("@growthbook/growthbook");

function evalBatch(batch) {
  const client = new GrowthBookClient({});
  client.initSync({ payload: batch.payload });
  const results = [];
  const docs = [];
  for (const u of batch.users) {
    const ctx = { attributes: u.attributes, url: u.url || "" };
    if (u.forcedVariations) ctx.forcedVariations = u.forcedVariations;
    if (u.forcedFeatures) ctx.forcedFeatureValues = new Map(Object.entries(u.forcedFeatures));
    if (u.qaMode !== undefined) ctx.qaMode = u.qaMode;
    if (u.enabled !== undefined) ctx.enabled = u.enabled;
    if (u.stickyDocs) {
      ctx.stickyBucketAssignmentDocs = JSON.parse(JSON.stringify(u.stickyDocs));
      ctx.saveStickyBucketAssignmentDoc = () => Promise.resolve();
    }
    const row = [];
    for (const f of batch.features) {
      try {
        // JSON round trip: what a consumer of the result sees (undefined dropped).
        row.push(JSON.parse(JSON.stringify(client.evalFeature(f, ctx))));
      } catch (e) {
        row.push({ threw: String(e && e.message) });
      }
    }
    results.push(row);
    docs.push(u.stickyDocs ? ctx.stickyBucketAssignmentDocs || null : null);
  }
  // URL targeting: an inline experiment with `urlPatterns` per case (null where it threw).
  const urls = (batch.urlCases || []).map(([url, urlPatterns]) => {
    try {
      const exp = { key: "e", variations: [0, 1], urlPatterns };
      return client.runInlineExperiment(exp, { attributes: { id: "1" }, url }).inExperiment;
    } catch (e) {
      return null;
    }
  });
  return { results, docs, urls };
}

// Unknown operators log through console.error; keep stderr for real failures only.
console.error = () => {};
console.log = () => {};
const out = process.stdout;
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  let answer;
  try {
    answer = evalBatch(JSON.parse(line));
  } catch (e) {
    answer = { error: String(e && e.stack) };
  }
  out.write(JSON.stringify(answer) + "\n");
});

#!/usr/bin/env node
// The per-delivery CPU work in Node.js, for comparison with the Rust receiver.
//
// Same work as examples/bench_work.rs and bench/compare.py, with Node's
// built-ins only: verify the hex HMAC-SHA256 signature (crypto.createHmac +
// crypto.timingSafeEqual), parse the body (JSON.parse), check the envelope and
// read payload.status, decide (new session: applied). Same inputs, same
// timing: warm-up, calibrate a batch to --min-batch-ms, time --batches
// batches, report per-iteration median/p10/p90/min/max in ns.
//
//     node bench/compare.js [--inputs bench/inputs] [--batches 30] [--min-batch-ms 20]
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');

const SECRET = Buffer.from('bench-secret-0123456789abcdef');
const INPUTS = [['approved', 'approved.json'], ['large_64k', 'large-64k.json']];
const PREFIX = 'biometric.session_';
const RANK = { pending: 0, in_progress: 1, approved: 2, rejected: 2, abandoned: 2, cancelled: 2, expired: 2 };
const SAFE_ID = /^[\x21-\x7e]{1,100}$/;

function verdict(stored, incoming) {
  if (stored === null) return 'applied';
  const a = RANK[incoming];
  const b = RANK[stored];
  if (a > b) return 'applied';
  if (a < b) return 'stale';
  return incoming === stored ? 'duplicate' : 'conflict';
}

function work(secret, body, header) {
  const hex = header.startsWith('sha256=') ? header.slice(7) : header;
  const tag = Buffer.from(hex, 'hex');
  const mac = crypto.createHmac('sha256', secret).update(body).digest();
  if (tag.length !== mac.length || !crypto.timingSafeEqual(mac, tag)) throw new Error('signature refused');
  const doc = JSON.parse(body.toString('utf8'));
  const event = doc.event;
  if (typeof event !== 'string' || !event.startsWith(PREFIX)) throw new Error('not a session event');
  const payload = doc.payload;
  const sessionId = payload.id;
  if (typeof sessionId !== 'string' || !SAFE_ID.test(sessionId)) throw new Error('bad session id');
  const status = payload.status;
  if (!Object.prototype.hasOwnProperty.call(RANK, status)) throw new Error('unknown status');
  return verdict(null, status).length + sessionId.length;
}

function timeBatch(secret, body, header, iters) {
  const started = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < iters; i++) sink += work(secret, body, header);
  const elapsed = Number(process.hrtime.bigint() - started);
  if (sink < 0) console.log(sink);
  return elapsed;
}

function percentile(sorted, p) {
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

function main() {
  const args = { inputs: 'bench/inputs', batches: 30, minBatchMs: 20 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--inputs') args.inputs = value;
    else if (flag === '--batches') args.batches = Number(value);
    else if (flag === '--min-batch-ms') args.minBatchMs = Number(value);
    else throw new Error(`unknown option ${flag}`);
  }
  const results = {};
  for (const [name, file] of INPUTS) {
    const body = fs.readFileSync(`${args.inputs}/${file}`);
    const header = crypto.createHmac('sha256', SECRET).update(body).digest('hex');
    // Warm-up long enough for V8 to optimise `work`.
    const warmUntil = Date.now() + 200;
    while (Date.now() < warmUntil) timeBatch(SECRET, body, header, 10);
    let iters = 1;
    while (timeBatch(SECRET, body, header, iters) < args.minBatchMs * 1e6) iters *= 2;
    const perIter = [];
    for (let b = 0; b < args.batches; b++) perIter.push(timeBatch(SECRET, body, header, iters) / iters);
    perIter.sort((x, y) => x - y);
    results[name] = {
      bytes: body.length,
      median_ns: percentile(perIter, 0.5),
      p10_ns: percentile(perIter, 0.1),
      p90_ns: percentile(perIter, 0.9),
      min_ns: perIter[0],
      max_ns: perIter[perIter.length - 1],
      batches: args.batches,
      iters_per_batch: iters,
    };
  }
  console.log(JSON.stringify({
    language: 'node',
    runtime: `Node.js ${process.versions.node}`,
    work: 'verify_hex_parse_decide',
    results,
  }));
}

main();

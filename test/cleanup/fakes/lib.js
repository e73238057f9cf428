'use strict';
// Shared by the fake commands that stand in for docker, curl, df, lvs and
// fstrim in the cleanup script tests. The test harness writes scenario.json
// into CC_FAKE_DIR; every fake appends its argv to calls.log there (one JSON
// object per line) before it answers.
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.CC_FAKE_DIR;
if (!dir) {
  process.stderr.write('fake: CC_FAKE_DIR is not set\n');
  process.exit(99);
}

function record(cmd, args) {
  // pid: so that a test can check that the process is gone after the script exits.
  fs.appendFileSync(path.join(dir, 'calls.log'), `${JSON.stringify({ cmd, args, at: Date.now(), pid: process.pid })}\n`);
}

let cached;
function scenario() {
  if (!cached) cached = JSON.parse(fs.readFileSync(path.join(dir, 'scenario.json'), 'utf8'));
  return cached;
}

/** 0 on the first call for `name`, 1 on the second, ... (one script run per dir). */
function nextCount(name) {
  const file = path.join(dir, `count-${name}`);
  let n = 0;
  try {
    n = Number(fs.readFileSync(file, 'utf8')) || 0;
  } catch {
    n = 0;
  }
  fs.writeFileSync(file, String(n + 1));
  return n;
}

/** The `before` figures answer the first measurement, `after` (or `before`) every later one. */
function phased(spec, name) {
  if (!spec) return undefined;
  return nextCount(name) === 0 ? spec.before : (spec.after ?? spec.before);
}

function readLines(name) {
  try {
    return new Set(fs.readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean));
  } catch {
    return new Set();
  }
}

function appendLine(name, line) {
  fs.appendFileSync(path.join(dir, name), `${line}\n`);
}

/** Never returns: stays alive until killed (what `timeout` is for). */
function hang() {
  setInterval(() => {}, 60_000);
}

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Docker's units.HumanSize: 4 significant digits, decimal units, no space. */
function humanSize(bytes) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = Number(bytes);
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

module.exports = { dir, record, scenario, phased, readLines, appendLine, hang, fail, humanSize };

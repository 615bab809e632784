// Repairs the table exports of a module written by binaryen's wasm-opt before version 110,
// which writes every exported table as table 0 (WebAssembly/binaryen#4711, fixed by #4736).
// wasm-bindgen exports its externref table (`__wbindgen_externrefs`), which is table 1 next
// to the funcref table, so such a wasm-opt leaves the glue growing the wrong table
// ("WebAssembly.Table.grow(): failed to grow table" / "Table.set(): Argument 1 is invalid").
//
//   node scripts/wasm-table-exports.mjs BEFORE.wasm AFTER.wasm
//
// Each table export of AFTER is pointed at the table whose type is the type the same export
// had in BEFORE (the wasm-bindgen output); AFTER is rewritten only when that changes
// something. Fails when the choice is ambiguous.
import { readFileSync, writeFileSync } from 'node:fs';

const [beforePath, afterPath] = process.argv.slice(2);
if (!beforePath || !afterPath) {
  console.error('usage: node wasm-table-exports.mjs BEFORE.wasm AFTER.wasm');
  process.exit(2);
}

function readU32(buf, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [result, pos];
  }
}

function u32(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

// Skips a limits structure.
function skipLimits(buf, pos) {
  const flags = buf[pos++];
  [, pos] = readU32(buf, pos);
  if (flags & 1) [, pos] = readU32(buf, pos);
  return pos;
}

// The sections, the type of every table (imports first), and the exports.
function parse(buf) {
  if (buf.readUInt32BE(0) !== 0x0061736d) throw new Error('not a wasm module');
  const sections = [];
  let pos = 8;
  while (pos < buf.length) {
    const id = buf[pos];
    const [size, start] = readU32(buf, pos + 1);
    sections.push({ id, headerStart: pos, start, end: start + size });
    pos = start + size;
  }
  const tables = [];
  const exports = [];
  for (const s of sections) {
    let p = s.start;
    if (s.id === 2) {
      // Import section: tables among the imports come first in the table index space.
      let n;
      [n, p] = readU32(buf, p);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < 2; k++) {
          let len;
          [len, p] = readU32(buf, p);
          p += len;
        }
        const kind = buf[p++];
        if (kind === 0) [, p] = readU32(buf, p);
        else if (kind === 1) {
          tables.push(buf[p]);
          p = skipLimits(buf, p + 1);
        } else if (kind === 2) p = skipLimits(buf, p);
        else if (kind === 3) p += 2;
        else if (kind === 4) p += 1 + readU32(buf, p + 1)[1] - (p + 1);
        else throw new Error(`unknown import kind ${kind}`);
      }
    } else if (s.id === 4) {
      let n;
      [n, p] = readU32(buf, p);
      for (let i = 0; i < n; i++) {
        if (buf[p] === 0x40) throw new Error('tables with initializers are not supported');
        tables.push(buf[p]);
        p = skipLimits(buf, p + 1);
      }
    } else if (s.id === 7) {
      let n;
      [n, p] = readU32(buf, p);
      for (let i = 0; i < n; i++) {
        let len;
        [len, p] = readU32(buf, p);
        const name = buf.subarray(p, p + len).toString('utf8');
        p += len;
        const kind = buf[p++];
        let index;
        [index, p] = readU32(buf, p);
        exports.push({ name, kind, index });
      }
      s.exports = exports;
    }
  }
  return { sections, tables, exports };
}

const before = parse(readFileSync(beforePath));
const afterBuf = readFileSync(afterPath);
const after = parse(afterBuf);

let changed = false;
for (const exp of after.exports) {
  if (exp.kind !== 1) continue;
  const was = before.exports.find((e) => e.name === exp.name && e.kind === 1);
  if (!was) throw new Error(`table export ${exp.name} is not in ${beforePath}`);
  const type = before.tables[was.index];
  const candidates = after.tables.map((t, i) => (t === type ? i : -1)).filter((i) => i >= 0);
  if (candidates.length !== 1) {
    throw new Error(`table export ${exp.name}: ${candidates.length} tables of type 0x${type.toString(16)}`);
  }
  if (candidates[0] !== exp.index) {
    console.error(`[wasm-table-exports] ${exp.name}: table ${exp.index} -> ${candidates[0]} (binaryen#4711)`);
    exp.index = candidates[0];
    changed = true;
  }
}

if (changed) {
  const body = [...u32(after.exports.length)];
  for (const e of after.exports) {
    const name = Buffer.from(e.name, 'utf8');
    body.push(...u32(name.length), ...name, e.kind, ...u32(e.index));
  }
  const section = after.sections.find((s) => s.id === 7);
  const out = Buffer.concat([
    afterBuf.subarray(0, section.headerStart),
    Buffer.from([7, ...u32(body.length), ...body]),
    afterBuf.subarray(section.end),
  ]);
  new WebAssembly.Module(out); // still valid
  writeFileSync(afterPath, out);
}

// The dynamic section of an ELF shared object: its SONAME and what it needs. Pure; reads only the
// bytes given (the head of a file), and says null where they do not reach.

export interface ElfDynamic {
  soname: string | null;
  needed: string[];
  machine: number;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;

export function isElf(b: Buffer): boolean {
  return b.length >= 4 && b.readUInt32BE(0) === 0x7f454c46;
}

/** SONAME and DT_NEEDED of an ELF file, from its first bytes; null when it is not ELF or they do not reach. */
export function elfDynamic(b: Buffer): ElfDynamic | null {
  if (!isElf(b) || b.length < 64) return null;
  const is64 = b[4] === 2;
  const le = b[5] === 1;
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const word = (o: number) => {
    if (!is64) return u32(o);
    const v = le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  const inside = (o: number, n: number) => o >= 0 && o + n <= b.length;
  const machine = u16(18);
  const phoff = is64 ? word(32) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let dyn: { offset: number; size: number } | null = null;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (!inside(p, is64 ? 56 : 32)) return null;
    const type = u32(p);
    const offset = is64 ? word(p + 8) : u32(p + 4);
    const vaddr = is64 ? word(p + 16) : u32(p + 8);
    const filesz = is64 ? word(p + 32) : u32(p + 16);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    if (type === PT_DYNAMIC) dyn = { offset, size: filesz };
  }
  if (!dyn) return { soname: null, needed: [], machine };
  const entSize = is64 ? 16 : 8;
  let strtabVaddr: number | null = null;
  let soname: number | null = null;
  const needed: number[] = [];
  for (let o = dyn.offset; o + entSize <= dyn.offset + dyn.size; o += entSize) {
    if (!inside(o, entSize)) return null;
    const tag = word(o);
    const val = word(o + entSize / 2);
    if (tag === DT_NULL) break;
    if (tag === DT_STRTAB) strtabVaddr = val;
    else if (tag === DT_SONAME) soname = val;
    else if (tag === DT_NEEDED) needed.push(val);
  }
  if (strtabVaddr === null) return { soname: null, needed: [], machine };
  const seg = loads.find((l) => strtabVaddr! >= l.vaddr && strtabVaddr! < l.vaddr + l.filesz);
  if (!seg) return null;
  const strtab = seg.offset + (strtabVaddr - seg.vaddr);
  const str = (off: number): string | null => {
    const start = strtab + off;
    if (!inside(start, 1)) return null;
    const end = b.indexOf(0, start);
    return end < 0 ? null : b.subarray(start, end).toString('latin1');
  };
  const names = needed.map(str);
  if (names.some((n) => n === null)) return null;
  const so = soname === null ? null : str(soname);
  if (soname !== null && so === null) return null;
  return { soname: so, needed: names as string[], machine };
}

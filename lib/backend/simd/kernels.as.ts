// AssemblyScript source of this project's WebAssembly kernels.
// Build: deno task build:wasm (compiles with asc, writes kernels_wasm.ts).
//
// The module imports the tfjs-wasm backend's own memory and works on
// tensors in place, given their byte offsets. It has no data segments, no
// globals it writes and no allocator: it must never touch memory it was
// not handed.

/**
 * 2-D transpose of a rows×cols float32 matrix at `src` into `dst`
 * (cols×rows), in 32×32 tiles.
 */
export function transpose2d(src: usize, dst: usize, rows: i32, cols: i32): void {
  for (let r0 = 0; r0 < rows; r0 += 32) {
    const r1 = min(rows, r0 + 32);
    for (let c0 = 0; c0 < cols; c0 += 32) {
      const c1 = min(cols, c0 + 32);
      for (let c = c0; c < c1; c++) {
        const d = dst + (<usize>c * <usize>rows << 2);
        for (let r = r0; r < r1; r++) {
          store<f32>(d + (<usize>r << 2), load<f32>(src + ((<usize>r * <usize>cols + <usize>c) << 2)));
        }
      }
    }
  }
}

/** Copies n floats; rows here are short, so a SIMD loop beats memory.copy. */
// @ts-ignore: decorator
@inline
function copyFloats(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  }
  for (; i < n; i++) {
    store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
  }
}

/**
 * The transposed patch matrix of a channel-major input xT [Ci, N, H, W]:
 * row (kh, kw, ci), column (n, oh, ow) holds the input value filter tap
 * (kh, kw) on channel ci sees at output position (oh, ow) of image n, or
 * zero where the filter overhangs the padding.
 */
export function im2colT(
  xT: usize, out: usize,
  N: i32, H: i32, W: i32, Ci: i32,
  OH: i32, OW: i32, KH: i32, KW: i32,
  sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  let o = out;
  const rowBytes = <usize>OW << 2;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      // Output columns whose input column w = ow·sw + kw − pl is inside.
      let owLo = 0;
      while (owLo < OW && owLo * sw + kw - pl < 0) owLo++;
      let owHi = OW;
      while (owHi > owLo && (owHi - 1) * sw + kw - pl >= W) owHi--;
      for (let ci = 0; ci < Ci; ci++) {
        const plane = xT + (<usize>ci * <usize>N * <usize>H * <usize>W << 2);
        for (let n = 0; n < N; n++) {
          const img = plane + (<usize>n * <usize>H * <usize>W << 2);
          for (let oh = 0; oh < OH; oh++) {
            const h = oh * sh + kh - pt;
            if (h < 0 || h >= H) {
              memory.fill(o, 0, rowBytes);
            } else {
              if (owLo > 0) memory.fill(o, 0, <usize>owLo << 2);
              const row = img + (<usize>(h * W) << 2);
              if (sw == 1) {
                copyFloats(
                  o + (<usize>owLo << 2),
                  row + (<usize>(owLo + kw - pl) << 2),
                  owHi - owLo,
                );
              } else {
                for (let ow = owLo; ow < owHi; ow++) {
                  store<f32>(o + (<usize>ow << 2), load<f32>(row + (<usize>(ow * sw + kw - pl) << 2)));
                }
              }
              if (owHi < OW) memory.fill(o + (<usize>owHi << 2), 0, <usize>(OW - owHi) << 2);
            }
            o += rowBytes;
          }
        }
      }
    }
  }
}

// ---- per-channel statistics and affine maps of channels-last tensors ----
// x is rows × C float32 (C a multiple of 4). The sums are computed in blocks
// of R rows (a multiple of ROWS), on any thread: block k writes its two
// f64 sums per channel to part + k·2C·8 ([0, C) and [C, 2C)), which the
// caller adds up in block order, so the result does not depend on how many
// threads ran the blocks. Within a block, every ROWS rows are summed in f32
// registers, then added in f64.

const ROWS = 64;

// @ts-ignore: decorator
@inline
function addToF64(acc: usize, c: i32, v: v128): void {
  const p = acc + (<usize>c << 3);
  v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(v)));
  const hi = v128.shuffle<f32>(v, v, 2, 3, 0, 1);
  v128.store(p + 16, f64x2.add(v128.load(p + 16), f64x2.promote_low_f32x4(hi)));
}

/** addToF64 of sixteen channels from c: four sums, channels c … c + 15. */
// @ts-ignore: decorator
@inline
function addToF64x4(acc: usize, c: i32, v0: v128, v1: v128, v2: v128, v3: v128): void {
  addToF64(acc, c, v0);
  addToF64(acc, c + 4, v1);
  addToF64(acc, c + 8, v2);
  addToF64(acc, c + 12, v3);
}

/** Zeroes block k's 2C f64 sums and returns where they are. */
// @ts-ignore: decorator
@inline
function blockSums(part: usize, C: i32, k: i32): usize {
  const acc = part + <usize>k * (<usize>C << 4);
  memory.fill(acc, 0, <usize>C << 4);
  return acc;
}

/**
 * max(v, 0) per lane, as f32x4.max(v, 0) gives it (+0 for ±0, NaN for
 * NaN): pmax, then + 0 (which turns −0 into +0): two instructions where
 * engines lower f32x4.max, with its NaN and signed-zero rules, to about
 * eight.
 */
// @ts-ignore: decorator
@inline
function reluV(v: v128): v128 {
  const zero = f32x4.splat(0);
  return f32x4.add(f32x4.pmax(v, zero), zero);
}

/**
 * Adds Σ (x − shift[c]) and Σ (x − shift[c])² over rows [r0, r1) (at most
 * ROWS) to the f64 sums at acc: per channel in f32 over the rows, then
 * into f64.
 */
// @ts-ignore: decorator
@inline
function momentsRows(x: usize, r0: i32, r1: i32, C: i32, shift: usize, acc: usize): void {
  const stride = <usize>C << 2;
  let c = 0;
  // Sixteen channels at a time: four independent sums per row walk
  // (each channel's additions in the same order as one at a time).
  for (; c + 16 <= C; c += 16) {
    const cb = <usize>c << 2;
    const h0 = ld(shift + cb), h1 = v128.load(shift + cb, 16);
    const h2 = v128.load(shift + cb, 32), h3 = v128.load(shift + cb, 48);
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let q0 = a0, q1 = a0, q2 = a0, q3 = a0;
    let p = x + <usize>r0 * stride + cb;
    for (let r = r0; r < r1; r++) {
      const d0 = f32x4.sub(ld(p), h0), d1 = f32x4.sub(v128.load(p, 16), h1);
      a0 = f32x4.add(a0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0));
      a1 = f32x4.add(a1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
      const d2 = f32x4.sub(v128.load(p, 32), h2), d3 = f32x4.sub(v128.load(p, 48), h3);
      a2 = f32x4.add(a2, d2); q2 = f32x4.add(q2, f32x4.mul(d2, d2));
      a3 = f32x4.add(a3, d3); q3 = f32x4.add(q3, f32x4.mul(d3, d3));
      p += stride;
    }
    addToF64x4(acc, c, a0, a1, a2, a3);
    addToF64x4(acc, C + c, q0, q1, q2, q3);
  }
  for (; c < C; c += 4) {
    const s = v128.load(shift + (<usize>c << 2));
    let s1 = f32x4.splat(0), s2 = f32x4.splat(0);
    let p = x + <usize>r0 * stride + (<usize>c << 2);
    for (let r = r0; r < r1; r++) {
      const d = f32x4.sub(v128.load(p), s);
      s1 = f32x4.add(s1, d);
      s2 = f32x4.add(s2, f32x4.mul(d, d));
      p += stride;
    }
    addToF64(acc, c, s1);
    addToF64(acc, C + c, s2);
  }
}

/**
 * Blocks [k0, k1) of: Σ (x − shift[c]) and Σ (x − shift[c])² per channel
 * (with shift 0, the column sums).
 */
export function momentsAcc(
  x: usize, rows: i32, C: i32, shift: usize, part: usize, R: i32, k0: i32, k1: i32,
): void {
  for (let k = k0; k < k1; k++) {
    const acc = blockSums(part, C, k);
    const end = min(rows, (k + 1) * R);
    for (let r0 = k * R; r0 < end; r0 += ROWS) {
      momentsRows(x, r0, min(end, r0 + ROWS), C, shift, acc);
    }
  }
}

/**
 * y = max(x, 0) (as `relu`) for blocks [k0, k1) of R rows of [rows, C],
 * with momentsAcc's sums of y (the same blocks, order and bits), each
 * ROWS rows summed while they are still in L1: a batch norm after the
 * ReLU then needs no pass of its own over y for its statistics.
 */
export function reluMoments(
  x: usize, y: usize, rows: i32, C: i32, shift: usize, part: usize, R: i32, k0: i32, k1: i32,
): void {
  const stride = <usize>C << 2;
  for (let k = k0; k < k1; k++) {
    const acc = blockSums(part, C, k);
    const end = min(rows, (k + 1) * R);
    for (let r0 = k * R; r0 < end; r0 += ROWS) {
      const r1 = min(end, r0 + ROWS);
      const o1 = <usize>r1 * stride;
      for (let o = <usize>r0 * stride; o < o1; o += 16) {
        v128.store(y + o, reluV(ld(x + o)));
      }
      momentsRows(y, r0, r1, C, shift, acc);
    }
  }
}

/** Blocks [k0, k1) of: Σ dy and Σ dy · (x − mean[c]) per channel. */
export function bnGradAcc(
  x: usize, dy: usize, rows: i32, C: i32, mean: usize, part: usize, R: i32, k0: i32, k1: i32,
): void {
  const stride = <usize>C << 2;
  for (let k = k0; k < k1; k++) {
    const acc = blockSums(part, C, k);
    const end = min(rows, (k + 1) * R);
    for (let r0 = k * R; r0 < end; r0 += ROWS) {
      const r1 = min(end, r0 + ROWS);
      let c = 0;
      // Sixteen channels at a time, as in momentsAcc.
      for (; c + 16 <= C; c += 16) {
        const cb = <usize>c << 2;
        const m0 = ld(mean + cb), m1 = v128.load(mean + cb, 16);
        const m2 = v128.load(mean + cb, 32), m3 = v128.load(mean + cb, 48);
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let q0 = a0, q1 = a0, q2 = a0, q3 = a0;
        const off = <usize>r0 * stride + cb;
        let px = x + off, pg = dy + off;
        for (let r = r0; r < r1; r++) {
          const g0 = ld(pg), g1 = v128.load(pg, 16);
          a0 = f32x4.add(a0, g0); q0 = f32x4.add(q0, f32x4.mul(g0, f32x4.sub(ld(px), m0)));
          a1 = f32x4.add(a1, g1); q1 = f32x4.add(q1, f32x4.mul(g1, f32x4.sub(v128.load(px, 16), m1)));
          const g2 = v128.load(pg, 32), g3 = v128.load(pg, 48);
          a2 = f32x4.add(a2, g2); q2 = f32x4.add(q2, f32x4.mul(g2, f32x4.sub(v128.load(px, 32), m2)));
          a3 = f32x4.add(a3, g3); q3 = f32x4.add(q3, f32x4.mul(g3, f32x4.sub(v128.load(px, 48), m3)));
          px += stride;
          pg += stride;
        }
        addToF64x4(acc, c, a0, a1, a2, a3);
        addToF64x4(acc, C + c, q0, q1, q2, q3);
      }
      for (; c < C; c += 4) {
        const m = v128.load(mean + (<usize>c << 2));
        let s1 = f32x4.splat(0), s2 = f32x4.splat(0);
        const off = <usize>r0 * stride + (<usize>c << 2);
        let px = x + off, pg = dy + off;
        for (let r = r0; r < r1; r++) {
          const g = v128.load(pg);
          s1 = f32x4.add(s1, g);
          s2 = f32x4.add(s2, f32x4.mul(g, f32x4.sub(v128.load(px), m)));
          px += stride;
          pg += stride;
        }
        addToF64(acc, c, s1);
        addToF64(acc, C + c, s2);
      }
    }
  }
}

/**
 * y = (x − m[c]) · a[c] + b[c] for rows [k0·R, k1·R) of x [rows, C], row
 * after row (one pass over memory; the coefficients stay in cache).
 */
export function normalizeRows(
  x: usize, y: usize, rows: i32, C: i32, m: usize, a: usize, b: usize,
  R: i32, k0: i32, k1: i32,
): void {
  const stride = <usize>C << 2;
  const r1 = min(rows, k1 * R);
  let r = k0 * R;
  // Four rows at a time: each channel's coefficients loaded once for four.
  for (; r + 4 <= r1; r += 4) {
    const px = x + <usize>r * stride, py = y + <usize>r * stride;
    for (let o: usize = 0; o < stride; o += 16) {
      const mo = ld(m + o), ao = ld(a + o), bo = ld(b + o);
      v128.store(py + o, f32x4.add(f32x4.mul(f32x4.sub(ld(px + o), mo), ao), bo));
      const o1 = o + stride, o2 = o1 + stride, o3 = o2 + stride;
      v128.store(py + o1, f32x4.add(f32x4.mul(f32x4.sub(ld(px + o1), mo), ao), bo));
      v128.store(py + o2, f32x4.add(f32x4.mul(f32x4.sub(ld(px + o2), mo), ao), bo));
      v128.store(py + o3, f32x4.add(f32x4.mul(f32x4.sub(ld(px + o3), mo), ao), bo));
    }
  }
  for (; r < r1; r++) {
    const px = x + <usize>r * stride, py = y + <usize>r * stride;
    for (let o: usize = 0; o < stride; o += 16) {
      v128.store(py + o, f32x4.add(
        f32x4.mul(f32x4.sub(ld(px + o), ld(m + o)), ld(a + o)),
        ld(b + o),
      ));
    }
  }
}

/**
 * One vector of batch norm's dx: a · dy + b · x + d, times step(x) with
 * `relu` (see bnGradRows).
 */
// @ts-ignore: decorator
@inline
function bnGradValue(x: v128, dy: v128, a: v128, b: v128, d: v128, relu: i32): v128 {
  const g = f32x4.add(f32x4.add(f32x4.mul(dy, a), f32x4.mul(x, b)), d);
  return relu ? f32x4.mul(g, reluStep(x)) : g;
}

/**
 * dx = a[c] · dy + b[c] · x + d[c] for rows [k0·R, k1·R) of [rows, C], row
 * after row; with `relu`, times step(x) as reluGrad takes it (x is then a
 * ReLU's output, whose step is its input's): the gradient through the
 * batch norm and the ReLU before it in one pass.
 */
export function bnGradRows(
  x: usize, dy: usize, dx: usize, rows: i32, C: i32, a: usize, b: usize, d: usize,
  relu: i32, R: i32, k0: i32, k1: i32,
): void {
  const stride = <usize>C << 2;
  const r1 = min(rows, k1 * R);
  for (let r = k0 * R; r < r1; r++) {
    const at = <usize>r * stride;
    const px = x + at, pg = dy + at, pd = dx + at;
    for (let o: usize = 0; o < stride; o += 16) {
      v128.store(pd + o, bnGradValue(ld(px + o), ld(pg + o), ld(a + o), ld(b + o), ld(d + o), relu));
    }
  }
}

/**
 * bnGradRows (with its `relu`) for blocks [k0, k1) of R rows, which also
 * sums dx per channel: 64 rows at a time in f32, then into block k's f64
 * sums at `part` (the layout and order of momentsAcc with a zero shift, so
 * the sums are the bits the `Sum` kernel would compute from dx).
 */
export function bnGradSums(
  x: usize, dy: usize, dx: usize, rows: i32, C: i32, a: usize, b: usize, d: usize,
  relu: i32, part: usize, R: i32, k0: i32, k1: i32,
): void {
  const stride = <usize>C << 2;
  for (let k = k0; k < k1; k++) {
    const acc = blockSums(part, C, k);
    const end = min(rows, (k + 1) * R);
    for (let r0 = k * R; r0 < end; r0 += ROWS) {
      const r1 = min(end, r0 + ROWS);
      let c = 0;
      // Sixteen channels at a time, as in momentsAcc; the coefficients
      // come from memory (L1) at each use, the registers hold the sums.
      for (; c + 16 <= C; c += 16) {
        const cb = <usize>c << 2;
        const pa = a + cb, pb = b + cb, pdc = d + cb;
        let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
        const off = <usize>r0 * stride + cb;
        let px = x + off, pg = dy + off, pd = dx + off;
        for (let r = r0; r < r1; r++) {
          const g0 = bnGradValue(ld(px), ld(pg), ld(pa), ld(pb), ld(pdc), relu);
          const g1 = bnGradValue(
            v128.load(px, 16), v128.load(pg, 16), v128.load(pa, 16), v128.load(pb, 16), v128.load(pdc, 16), relu,
          );
          v128.store(pd, g0); v128.store(pd, g1, 16);
          s0 = f32x4.add(s0, g0); s1 = f32x4.add(s1, g1);
          const g2 = bnGradValue(
            v128.load(px, 32), v128.load(pg, 32), v128.load(pa, 32), v128.load(pb, 32), v128.load(pdc, 32), relu,
          );
          const g3 = bnGradValue(
            v128.load(px, 48), v128.load(pg, 48), v128.load(pa, 48), v128.load(pb, 48), v128.load(pdc, 48), relu,
          );
          v128.store(pd, g2, 32); v128.store(pd, g3, 48);
          s2 = f32x4.add(s2, g2); s3 = f32x4.add(s3, g3);
          px += stride;
          pg += stride;
          pd += stride;
        }
        addToF64x4(acc, c, s0, s1, s2, s3);
      }
      for (; c < C; c += 4) {
        const cb = <usize>c << 2;
        const ac = ld(a + cb), bc = ld(b + cb), dc = ld(d + cb);
        let s1 = f32x4.splat(0);
        const off = <usize>r0 * stride + cb;
        let px = x + off, pg = dy + off, pd = dx + off;
        for (let r = r0; r < r1; r++) {
          const g = bnGradValue(ld(px), ld(pg), ac, bc, dc, relu);
          v128.store(pd, g);
          s1 = f32x4.add(s1, g);
          px += stride;
          pg += stride;
          pd += stride;
        }
        addToF64(acc, c, s1);
      }
    }
  }
}

/**
 * 2×2, stride-2 max pooling that tiles x exactly, for rows [k0·R, k1·R) of
 * bh: x is [bh = N·OH rows of 2 input rows][2·OW][C], y is [bh][OW][C]. The
 * maximum is taken as a loop keeping the first value and replacing it only
 * by a larger one would take it (pmax), as the gradient below routes it.
 */
export function maxPool2x2(
  x: usize, y: usize, bh: i32, OW: i32, C: i32, R: i32, k0: i32, k1: i32,
): void {
  const cb = <usize>C << 2;
  const rowStride = <usize>(2 * OW) * cb;
  const i1 = min(bh, k1 * R);
  for (let i = k0 * R; i < i1; i++) {
    const base = <usize>(2 * i) * rowStride;
    let py = y + <usize>i * <usize>OW * cb;
    for (let ow = 0; ow < OW; ow++) {
      const a0 = x + base + <usize>(2 * ow) * cb;
      for (let c: usize = 0; c < cb; c += 16) {
        const ia = a0 + c, ib = ia + cb, id = ia + rowStride, ie = id + cb;
        const m = f32x4.pmax(f32x4.pmax(f32x4.pmax(ld(ia), ld(ib)), ld(id)), ld(ie));
        v128.store(py, m);
        py += 16;
      }
    }
  }
}

/**
 * Gradient of 2×2, stride-2 max pooling that tiles x exactly, for rows
 * [k0·R, k1·R) of bh (shapes as maxPool2x2's, dy as y). Each window's
 * gradient goes to its first maximum (as a loop keeping the first and
 * replacing it only by a larger value would pick); the others get zero.
 */
export function maxPool2x2Grad(
  x: usize, dy: usize, dx: usize, bh: i32, OW: i32, C: i32, R: i32, k0: i32, k1: i32,
): void {
  const cb = <usize>C << 2;
  const rowStride = <usize>(2 * OW) * cb;
  const i1 = min(bh, k1 * R);
  for (let i = k0 * R; i < i1; i++) {
    const base = <usize>(2 * i) * rowStride;
    let pg = dy + <usize>i * <usize>OW * cb;
    for (let ow = 0; ow < OW; ow++) {
      const a0 = base + <usize>(2 * ow) * cb;
      for (let c: usize = 0; c < cb; c += 16) {
        const ia = a0 + c, ib = ia + cb, id = ia + rowStride, ie = id + cb;
        const va = v128.load(x + ia), vb = v128.load(x + ib);
        const vd = v128.load(x + id), ve = v128.load(x + ie);
        const wb = v128.and(v128.and(f32x4.gt(vb, va), f32x4.ge(vb, vd)), f32x4.ge(vb, ve));
        const wd = v128.and(v128.and(f32x4.gt(vd, va), f32x4.gt(vd, vb)), f32x4.ge(vd, ve));
        const we = v128.and(v128.and(f32x4.gt(ve, va), f32x4.gt(ve, vb)), f32x4.gt(ve, vd));
        const g = v128.load(pg);
        v128.store(dx + ia, v128.andnot(g, v128.or(v128.or(wb, wd), we)));
        v128.store(dx + ib, v128.and(g, wb));
        v128.store(dx + id, v128.and(g, wd));
        v128.store(dx + ie, v128.and(g, we));
        pg += 16;
      }
    }
  }
}

/** y[r][c] = a[r][c] + b[c] for rows [k0·R, min(rows, k1·R)) of [rows, C]. */
export function addChannels(
  a: usize, b: usize, y: usize, rows: i32, C: i32, R: i32, k0: i32, k1: i32,
): void {
  const stride = <usize>C << 2;
  const r1 = min(rows, k1 * R);
  for (let r = k0 * R; r < r1; r++) {
    const at = <usize>r * stride;
    const pa = a + at, py = y + at;
    for (let o: usize = 0; o < stride; o += 16) {
      v128.store(py + o, f32x4.add(ld(pa + o), ld(b + o)));
    }
  }
}

// ---- ReLU and its gradient, elementwise over n floats in blocks of B ----

/** ReLU's step of v: 1 above 0, 0 at or below, NaN for NaN (tfjs's Step). */
// @ts-ignore: decorator
@inline
function reluStep(v: v128): v128 {
  return v128.bitselect(v, v128.and(f32x4.gt(v, f32x4.splat(0)), f32x4.splat(1)), f32x4.ne(v, v));
}

/** y = max(x, 0) (+0 for ±0, NaN for NaN) for elements [k0·B, min(n, k1·B)). */
export function relu(x: usize, y: usize, n: i32, B: i32, k0: i32, k1: i32): void {
  const i1 = min(n, k1 * B);
  let i = k0 * B;
  for (; i + 16 <= i1; i += 16) {
    const px = x + (<usize>i << 2), py = y + (<usize>i << 2);
    v128.store(py, reluV(ld(px)));
    v128.store(py, reluV(v128.load(px, 16)), 16);
    v128.store(py, reluV(v128.load(px, 32)), 32);
    v128.store(py, reluV(v128.load(px, 48)), 48);
  }
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, reluV(ld(x + o)));
  }
  for (; i < i1; i++) {
    // + 0 turns −0 into +0, as the vectors' reluV does.
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), v < 0 ? 0 : v + 0);
  }
}

/**
 * dx = dy · step(x), step(x) = 1 for x > 0, 0 otherwise, NaN for NaN (as
 * tfjs's gradient of Relu computes it, in one pass instead of three), for
 * elements [k0·B, min(n, k1·B)).
 */
export function reluGrad(dy: usize, x: usize, dx: usize, n: i32, B: i32, k0: i32, k1: i32): void {
  const i1 = min(n, k1 * B);
  let i = k0 * B;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const v = ld(x + o);
    const step = reluStep(v);
    v128.store(dx + o, f32x4.mul(ld(dy + o), step));
  }
  for (; i < i1; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    const step: f32 = v != v ? v : v > 0 ? 1 : 0;
    store<f32>(dx + (<usize>i << 2), load<f32>(dy + (<usize>i << 2)) * step);
  }
}

/** z = x · y (same shapes) for elements [k0·B, min(n, k1·B)). */
export function multiply(x: usize, y: usize, z: usize, n: i32, B: i32, k0: i32, k1: i32): void {
  const i1 = min(n, k1 * B);
  let i = k0 * B;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    v128.store(z + o, f32x4.mul(ld(x + o), ld(y + o)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(z + o, load<f32>(x + o) * load<f32>(y + o));
  }
}

/**
 * A dropout mask, elements [k0·B, min(n, k1·B)): element i is `scale` when
 * the i-th (from 1) output of mulberry32 from `state` is below `keep`, else
 * 0 — bit for bit what `dropoutMask` in random.ts computes in JavaScript.
 * Four elements at a time: the output r (a u32) over 2³² is below keep
 * exactly when r < ⌈keep · 2³²⌉.
 */
export function dropoutMask(
  out: usize, state: u32, keep: f64, scale: f32, n: i32, B: i32, k0: i32, k1: i32,
): void {
  const STEP: u32 = 0x6d2b79f5;
  const bound = Math.ceil(keep * 4294967296.0);
  const all = bound >= 4294967296.0;
  const K = i32x4.splat(all ? 0 : <i32><u32>bound);
  const S = f32x4.splat(scale);
  const one = i32x4.splat(1), c61 = i32x4.splat(61);
  const i1 = min(n, k1 * B);
  let i = k0 * B;
  let a = i32x4.add(
    i32x4.splat(<i32>(state + <u32>(i + 1) * STEP)),
    i32x4(0, <i32>STEP, <i32>(2 * STEP), <i32>(3 * STEP)),
  );
  const step4 = i32x4.splat(<i32>(4 * STEP));
  for (; i + 4 <= i1; i += 4) {
    let t = i32x4.mul(v128.xor(a, i32x4.shr_u(a, 15)), v128.or(a, one));
    t = v128.xor(t, i32x4.add(t, i32x4.mul(v128.xor(t, i32x4.shr_u(t, 7)), v128.or(t, c61))));
    const r = v128.xor(t, i32x4.shr_u(t, 14));
    const kept = all ? i32x4.splat(-1) : i32x4.lt_u(r, K);
    v128.store(out + (<usize>i << 2), v128.and(S, kept));
    a = i32x4.add(a, step4);
  }
  for (; i < i1; i++) {
    let t: u32 = state + <u32>(i + 1) * STEP;
    t = (t ^ (t >>> 15)) * (t | 1);
    t ^= t + (t ^ (t >>> 7)) * (t | 61);
    const r: u32 = t ^ (t >>> 14);
    store<f32>(out + (<usize>i << 2), <f64>r / 4294967296.0 < keep ? scale : 0);
  }
}

/**
 * One SGD-with-momentum step over n floats: v' = m·v + negLr·g, w' = w + v',
 * each product and sum rounded to f32 (bit for bit the op-by-op update);
 * this call updates blocks [k0, k1) of B floats (B a multiple of 4).
 */
export function momentumUpdate(
  w: usize, v: usize, g: usize, vOut: usize, wOut: usize, m: f32, negLr: f32,
  n: i32, B: i32, k0: i32, k1: i32,
): void {
  const vm = f32x4.splat(m), vl = f32x4.splat(negLr);
  let i = k0 * B;
  const end = min(n, k1 * B);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const next = f32x4.add(f32x4.mul(v128.load(v + o), vm), f32x4.mul(v128.load(g + o), vl));
    v128.store(vOut + o, next);
    v128.store(wOut + o, f32x4.add(v128.load(w + o), next));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const next = load<f32>(v + o) * m + load<f32>(g + o) * negLr;
    store<f32>(vOut + o, next);
    store<f32>(wOut + o, load<f32>(w + o) + next);
  }
}

/**
 * One Adam step over blocks [k0, k1) of B of n floats (B a multiple of 4),
 * each operation rounded to f32 in the order of tfjs's `AdamOptimizer`
 * (bit for bit its op-by-op update), then the decoupled weight decay:
 *
 *     m' = m·β₁ + g·c₁            c₁ = 1 − β₁
 *     v' = v·β₂ + (g·g)·c₂        c₂ = 1 − β₂
 *     w' = ((m'/a₁) / (sqrt(v'/a₂) + ε))·negLr + w     a = 1 − βᵗ
 *     w' = w'·keep                 when `decay`
 */
export function adamUpdate(
  w: usize, m: usize, v: usize, g: usize, wOut: usize, mOut: usize, vOut: usize,
  b1: f32, c1: f32, b2: f32, c2: f32, a1: f32, a2: f32, eps: f32, negLr: f32,
  keep: f32, decay: i32, n: i32, B: i32, k0: i32, k1: i32,
): void {
  const vb1 = f32x4.splat(b1), vc1 = f32x4.splat(c1), vb2 = f32x4.splat(b2);
  const vc2 = f32x4.splat(c2), va1 = f32x4.splat(a1), va2 = f32x4.splat(a2);
  const veps = f32x4.splat(eps), vlr = f32x4.splat(negLr), vkeep = f32x4.splat(keep);
  let i = k0 * B;
  const end = min(n, k1 * B);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gi, vc1));
    const vi = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gi, gi), vc2));
    v128.store(mOut + o, mi);
    v128.store(vOut + o, vi);
    const den = f32x4.add(f32x4.sqrt(f32x4.div(vi, va2)), veps);
    let wi = f32x4.add(f32x4.mul(f32x4.div(f32x4.div(mi, va1), den), vlr), v128.load(w + o));
    if (decay) wi = f32x4.mul(wi, vkeep);
    v128.store(wOut + o, wi);
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = load<f32>(m + o) * b1 + gi * c1;
    const vi = load<f32>(v + o) * b2 + (gi * gi) * c2;
    store<f32>(mOut + o, mi);
    store<f32>(vOut + o, vi);
    let wi = (mi / a1) / (sqrt<f32>(vi / a2) + eps) * negLr + load<f32>(w + o);
    if (decay) wi = wi * keep;
    store<f32>(wOut + o, wi);
  }
}

// ---------------------------------------------------------------------------
// 3×3 convolutions by Winograd's minimal filtering F(4×4, 3×3) (Lavin &
// Gray, 2015): each 4×4 output tile is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A for its
// 6×6 input patch d, so the forward pass (and the input gradient) and the
// filter gradient are 36 small matrix products per block of tiles. Channels
// are the SIMD lanes; the products use fused multiply-add (relaxed SIMD).

// @ts-ignore: decorator
@inline
function fma(a: v128, b: v128, c: v128): v128 {
  return f32x4.relaxed_madd(a, b, c);
}

// @ts-ignore: decorator
@inline
function ld(p: usize): v128 {
  return v128.load(p);
}

// Register tiles of a matrix product, shared by the Winograd products and
// the dense products below.

/**
 * One 6 × 8 tile of C at `o` (rows `cs` bytes apart) += the product of 6
 * rows of A from `a` (rows `rs`, depth `ks` bytes apart) and 8 columns of
 * B from `b` (rows `bs` bytes apart) over `depth`; starts from zero when
 * `first`, and adds the bias and ReLU when `last`.
 */
// @ts-ignore: decorator
@inline
function gemmTile6x8(
  o: usize, a: usize, b: usize, rs: usize, ks: usize, bs: usize, cs: usize, depth: i32,
  first: bool, last: bool, bias: usize, relu: i32,
): void {
  const zero = f32x4.splat(0);
  let c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero;
  let c30 = zero, c31 = zero, c40 = zero, c41 = zero, c50 = zero, c51 = zero;
  if (!first) {
    c00 = ld(o); c01 = v128.load(o, 16);
    c10 = ld(o + cs); c11 = v128.load(o + cs, 16);
    c20 = ld(o + 2 * cs); c21 = v128.load(o + 2 * cs, 16);
    c30 = ld(o + 3 * cs); c31 = v128.load(o + 3 * cs, 16);
    c40 = ld(o + 4 * cs); c41 = v128.load(o + 4 * cs, 16);
    c50 = ld(o + 5 * cs); c51 = v128.load(o + 5 * cs, 16);
  }
  for (let kk = 0; kk < depth; kk++) {
    const b0 = ld(b), b1 = v128.load(b, 16);
    let s = v128.load32_splat(a);
    c00 = fma(s, b0, c00); c01 = fma(s, b1, c01);
    s = v128.load32_splat(a + rs);
    c10 = fma(s, b0, c10); c11 = fma(s, b1, c11);
    s = v128.load32_splat(a + 2 * rs);
    c20 = fma(s, b0, c20); c21 = fma(s, b1, c21);
    s = v128.load32_splat(a + 3 * rs);
    c30 = fma(s, b0, c30); c31 = fma(s, b1, c31);
    s = v128.load32_splat(a + 4 * rs);
    c40 = fma(s, b0, c40); c41 = fma(s, b1, c41);
    s = v128.load32_splat(a + 5 * rs);
    c50 = fma(s, b0, c50); c51 = fma(s, b1, c51);
    a += ks;
    b += bs;
  }
  if (last && bias != 0) {
    const p0 = ld(bias), p1 = v128.load(bias, 16);
    c00 = f32x4.add(c00, p0); c01 = f32x4.add(c01, p1);
    c10 = f32x4.add(c10, p0); c11 = f32x4.add(c11, p1);
    c20 = f32x4.add(c20, p0); c21 = f32x4.add(c21, p1);
    c30 = f32x4.add(c30, p0); c31 = f32x4.add(c31, p1);
    c40 = f32x4.add(c40, p0); c41 = f32x4.add(c41, p1);
    c50 = f32x4.add(c50, p0); c51 = f32x4.add(c51, p1);
  }
  if (last && relu) {
    c00 = reluV(c00); c01 = reluV(c01);
    c10 = reluV(c10); c11 = reluV(c11);
    c20 = reluV(c20); c21 = reluV(c21);
    c30 = reluV(c30); c31 = reluV(c31);
    c40 = reluV(c40); c41 = reluV(c41);
    c50 = reluV(c50); c51 = reluV(c51);
  }
  v128.store(o, c00); v128.store(o, c01, 16);
  v128.store(o + cs, c10); v128.store(o + cs, c11, 16);
  v128.store(o + 2 * cs, c20); v128.store(o + 2 * cs, c21, 16);
  v128.store(o + 3 * cs, c30); v128.store(o + 3 * cs, c31, 16);
  v128.store(o + 4 * cs, c40); v128.store(o + 4 * cs, c41, 16);
  v128.store(o + 5 * cs, c50); v128.store(o + 5 * cs, c51, 16);
}

/** As {@link gemmTile6x8}, for a 4 × 8 tile. */
// @ts-ignore: decorator
@inline
function gemmTile4x8(
  o: usize, a: usize, b: usize, rs: usize, ks: usize, bs: usize, cs: usize, depth: i32,
  first: bool, last: bool, bias: usize, relu: i32,
): void {
  const zero = f32x4.splat(0);
  let c00 = zero, c01 = zero, c10 = zero, c11 = zero;
  let c20 = zero, c21 = zero, c30 = zero, c31 = zero;
  if (!first) {
    c00 = ld(o); c01 = v128.load(o, 16);
    c10 = ld(o + cs); c11 = v128.load(o + cs, 16);
    c20 = ld(o + 2 * cs); c21 = v128.load(o + 2 * cs, 16);
    c30 = ld(o + 3 * cs); c31 = v128.load(o + 3 * cs, 16);
  }
  for (let kk = 0; kk < depth; kk++) {
    const b0 = ld(b), b1 = v128.load(b, 16);
    let s = v128.load32_splat(a);
    c00 = fma(s, b0, c00); c01 = fma(s, b1, c01);
    s = v128.load32_splat(a + rs);
    c10 = fma(s, b0, c10); c11 = fma(s, b1, c11);
    s = v128.load32_splat(a + 2 * rs);
    c20 = fma(s, b0, c20); c21 = fma(s, b1, c21);
    s = v128.load32_splat(a + 3 * rs);
    c30 = fma(s, b0, c30); c31 = fma(s, b1, c31);
    a += ks;
    b += bs;
  }
  if (last && bias != 0) {
    const p0 = ld(bias), p1 = v128.load(bias, 16);
    c00 = f32x4.add(c00, p0); c01 = f32x4.add(c01, p1);
    c10 = f32x4.add(c10, p0); c11 = f32x4.add(c11, p1);
    c20 = f32x4.add(c20, p0); c21 = f32x4.add(c21, p1);
    c30 = f32x4.add(c30, p0); c31 = f32x4.add(c31, p1);
  }
  if (last && relu) {
    c00 = reluV(c00); c01 = reluV(c01);
    c10 = reluV(c10); c11 = reluV(c11);
    c20 = reluV(c20); c21 = reluV(c21);
    c30 = reluV(c30); c31 = reluV(c31);
  }
  v128.store(o, c00); v128.store(o, c01, 16);
  v128.store(o + cs, c10); v128.store(o + cs, c11, 16);
  v128.store(o + 2 * cs, c20); v128.store(o + 2 * cs, c21, 16);
  v128.store(o + 3 * cs, c30); v128.store(o + 3 * cs, c31, 16);
}

// ---------------------------------------------------------------------------
// The forward convolution (and so the input gradient) by Winograd
// F(4×4, 3×3), interpolation points 0, ±1, ±2, ∞ (Lavin & Gray, 2015):
// each 4×4 output tile is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A for its 6×6 input
// patch d, 36 multiplies per 16 outputs and channel pair instead of 144.
//
//   Bᵀ = [4  0 −5  0 1 0]   G = [ 1/4    0     0  ]   Aᵀ = [1 1  1 1  1 0]
//        [0 −4 −4  1 1 0]       [−1/6 −1/6  −1/6 ]        [0 1 −1 2 −2 0]
//        [0  4 −4 −1 1 0]       [−1/6  1/6  −1/6 ]        [0 1  1 4  4 0]
//        [0 −2 −1  2 1 0]       [1/24  1/12  1/6 ]        [0 1 −1 8 −8 1]
//        [0  2 −1 −2 1 0]       [1/24 −1/12  1/6 ]
//        [0  4  0 −5 0 1]       [ 0     0     1  ]

/** Stores Bᵀ x for x = (x0 … x5): six values `step` bytes apart. */
// @ts-ignore: decorator
@inline
function storeBt6(
  o: usize, step: usize, x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128,
): void {
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  const a = f32x4.add(x3, x4), b = f32x4.add(x1, x2);
  const c = f32x4.sub(x4, x3), d = f32x4.sub(x1, x2);
  const e = f32x4.sub(x4, x2), f = f32x4.sub(x3, x1);
  v128.store(o, f32x4.add(f32x4.sub(f32x4.mul(four, x0), f32x4.mul(five, x2)), x4));
  v128.store(o + step, f32x4.sub(a, f32x4.mul(four, b)));
  v128.store(o + 2 * step, f32x4.add(c, f32x4.mul(four, d)));
  v128.store(o + 3 * step, f32x4.add(e, f32x4.mul(two, f)));
  v128.store(o + 4 * step, f32x4.sub(e, f32x4.mul(two, f)));
  v128.store(o + 5 * step, f32x4.add(f32x4.sub(f32x4.mul(four, x1), f32x4.mul(five, x3)), x5));
}

/** Stores G x for x = (x0 x1 x2): six values `step` bytes apart. */
// @ts-ignore: decorator
@inline
function storeG6(o: usize, step: usize, x0: v128, x1: v128, x2: v128): void {
  const s = f32x4.add(x0, x2);
  const sixth = f32x4.splat(<f32>1 / 6);
  const p = f32x4.add(f32x4.mul(x0, f32x4.splat(<f32>1 / 24)), f32x4.mul(x2, f32x4.splat(<f32>1 / 6)));
  const q = f32x4.mul(x1, f32x4.splat(<f32>1 / 12));
  v128.store(o, f32x4.mul(x0, f32x4.splat(0.25)));
  v128.store(o + step, f32x4.neg(f32x4.mul(f32x4.add(s, x1), sixth)));
  v128.store(o + 2 * step, f32x4.neg(f32x4.mul(f32x4.sub(s, x1), sixth)));
  v128.store(o + 3 * step, f32x4.add(p, q));
  v128.store(o + 4 * step, f32x4.sub(p, q));
  v128.store(o + 5 * step, x2);
}

/**
 * The transformed filter U[ξ][ci][co] = (G g Gᵀ)[ξ], ξ = 6·row + column,
 * of a 3×3 filter g in HWIO layout [3, 3, C, Co], for input channels
 * ci ∈ [k0, k1); Co a multiple of 4. U holds 36·C·Co floats; `tmp`
 * 72 + 36·Co floats of scratch. Each channel's 36 rows of U are made in
 * `tmp` and then copied out whole: stored straight into U, 36 planes a
 * power of two apart, they would all fall in the same cache sets.
 */
export function winogradFilter(
  w: usize, U: usize, C: i32, Co: i32, tmp: usize, k0: i32, k1: i32,
): void {
  const plane = <usize>C * <usize>Co << 2;
  const row = <usize>Co << 2;
  const rows = tmp + 288; // 36 rows of Co floats
  for (let ci = k0; ci < k1; ci++) {
    const at = <usize>ci * row;
    for (let co: usize = 0; co < row; co += 16) {
      const g = w + at + co;
      // G g, column by column: tmp[6·row + column] for columns 0…2.
      for (let kx = 0; kx < 3; kx++) {
        const p = g + <usize>kx * plane;
        storeG6(tmp + (<usize>kx << 4), 48, ld(p), ld(p + 3 * plane), ld(p + 6 * plane));
      }
      // Then each row of G g times Gᵀ.
      for (let r = 0; r < 6; r++) {
        const p = tmp + <usize>r * 48;
        storeG6(rows + co + <usize>(6 * r) * row, row, ld(p), ld(p + 16), ld(p + 32));
      }
    }
    for (let xi = 0; xi < 36; xi++) {
      copyFloats(U + <usize>xi * plane + at, rows + <usize>xi * row, Co);
    }
  }
}

// Tiles. With K = 0 the 4×4 output tiles cover each image on its own,
// image after image (an image of H × W has ⌈H/4⌉·⌈W/4⌉ of them). With
// K ≥ 1 they cover a mosaic of the batch: K images to a row, one row and
// one column of zeros between neighbours (each image's padding, shared),
// so that sizes that do not divide by 4 (14 × 14: 16 tiles per image, a
// quarter of them outside it) waste less. Tiles are numbered row-major.
// A virtual row (column) of a tile maps to an image part (n·K for the
// n-th row of images, j for the j-th column; BIG outside every image) and
// a byte offset; the pixel is inside iff the two parts add up to < N.

const BIG: i32 = 0x10000000;

/** Rows of tiles (see above). */
// @ts-ignore: decorator
@inline
function tileRowsOf(N: i32, H: i32, K: i32): i32 {
  return K == 0 ? N * ((H + 3) >> 2) : (((N + K - 1) / K) * (H + 1) + 2) >> 2;
}

/** Columns of tiles (see above). */
// @ts-ignore: decorator
@inline
function tileColsOf(W: i32, K: i32): i32 {
  return K == 0 ? (W + 3) >> 2 : (K * (W + 1) + 2) >> 2;
}

/** The image part of row 4·ty + d (d ≥ −1). */
// @ts-ignore: decorator
@inline
function rowImage(ty: i32, d: i32, H: i32, K: i32): i32 {
  if (K == 0) {
    const th = (H + 3) >> 2, n = ty / th, y = 4 * (ty - n * th) + d;
    return y < 0 || y >= H ? BIG : n;
  }
  const v = 4 * ty + d;
  if (v < 0) return BIG;
  const n = v / (H + 1);
  return v - n * (H + 1) == H ? BIG : n * K;
}

/** The byte offset of row 4·ty + d, pixels `pb` bytes (valid rows only). */
// @ts-ignore: decorator
@inline
function rowOffset(ty: i32, d: i32, H: i32, W: i32, K: i32, pb: usize): usize {
  if (K == 0) {
    const th = (H + 3) >> 2, n = ty / th, y = 4 * (ty - n * th) + d;
    return <usize>(n * H + y) * <usize>W * pb;
  }
  const v = 4 * ty + d, n = v / (H + 1);
  return <usize>(n * K * H + v - n * (H + 1)) * <usize>W * pb;
}

/** The image part of column 4·tx + d (d ≥ −1). */
// @ts-ignore: decorator
@inline
function colImage(tx: i32, d: i32, W: i32, K: i32): i32 {
  const u = 4 * tx + d;
  if (K == 0) return u < 0 || u >= W ? BIG : 0;
  if (u < 0) return BIG;
  const j = u / (W + 1);
  return j >= K || u - j * (W + 1) == W ? BIG : j;
}

/** The byte offset of column 4·tx + d, pixels `pb` bytes (valid columns only). */
// @ts-ignore: decorator
@inline
function colOffset(tx: i32, d: i32, H: i32, W: i32, K: i32, pb: usize): usize {
  const u = 4 * tx + d;
  if (K == 0) return <usize>u * pb;
  const j = u / (W + 1);
  return (<usize>j * <usize>H * <usize>W + <usize>(u - j * (W + 1))) * pb;
}

/**
 * Writes columns 4·tx + first + j, j < n ≤ 6, of a tile to `at`: n image
 * parts (i32), then, 24 bytes on, n byte offsets (u32).
 */
// @ts-ignore: decorator
@inline
function tileColumns(at: usize, tx: i32, first: i32, n: i32, H: i32, W: i32, K: i32, pb: usize): void {
  for (let j = 0; j < n; j++) {
    store<i32>(at + (<usize>j << 2), colImage(tx, first + j, W, K));
    store<u32>(at + 24 + (<usize>j << 2), <u32>colOffset(tx, first + j, H, W, K, pb));
  }
}

/**
 * Whether a patch of a tile lies in one image, from the image parts of its
 * first and last rows and columns: first and last in the same part (so
 * every row or column between, as a part's rows and columns are
 * consecutive), both parts inside.
 */
// @ts-ignore: decorator
@inline
function tileInside(rowFirst: i32, rowLast: i32, colFirst: i32, colLast: i32, N: i32): bool {
  return rowFirst == rowLast && colFirst == colLast && rowFirst < BIG && colFirst < BIG &&
    rowFirst + colFirst < N;
}

/** Four channels at `p`, or zeros where the image parts say outside. */
// @ts-ignore: decorator
@inline
function pixelAt(p: usize, rowPart: i32, colPart: i32, N: i32): v128 {
  if (rowPart + colPart >= N) return f32x4.splat(0);
  return ld(p);
}

/**
 * V[ξ][t − t0][c] = (Bᵀ d B)[ξ] for tiles [t0, t1) of x [N, H, W, C], d
 * being each 4×4 output tile's 6×6 input patch (zero outside the images;
 * tiles as above). `tmp` holds 12 words 576 bytes on and 36·C floats 640
 * bytes on.
 *
 * A tile's patch shares its first two columns with the last two of its
 * left neighbour's: where the previous tile of this call is that
 * neighbour, only four columns of Bᵀ d are computed. Bᵀ d lives in a ring
 * of six column slots per group of four channels (`tmp` + 640), column j
 * of tile column tx in slot (4·tx + j) mod 6.
 */
function transformInput6(
  x: usize, V: usize, vPlane: usize, N: i32, H: i32, W: i32, K: i32, cb: usize,
  t0: i32, t1: i32, tmp: usize,
): void {
  const tc = tileColsOf(W, K);
  const rowBytes = <usize>W * cb;
  const cols = tmp + 576;
  const ring = tmp + 640;
  for (let t = t0; t < t1; t++) {
    const ty = t / tc, tx = t - ty * tc;
    const r0 = rowImage(ty, -1, H, K), r1 = rowImage(ty, 0, H, K), r2 = rowImage(ty, 1, H, K);
    const r3 = rowImage(ty, 2, H, K), r4 = rowImage(ty, 3, H, K), r5 = rowImage(ty, 4, H, K);
    const o0 = rowOffset(ty, -1, H, W, K, cb), o1 = rowOffset(ty, 0, H, W, K, cb);
    const o2 = rowOffset(ty, 1, H, W, K, cb), o3 = rowOffset(ty, 2, H, W, K, cb);
    const o4 = rowOffset(ty, 3, H, W, K, cb), o5 = rowOffset(ty, 4, H, W, K, cb);
    tileColumns(cols, tx, -1, 6, H, W, K, cb);
    // The whole patch in one image: rows and columns consecutive.
    const inside = tileInside(r0, r5, load<i32>(cols), load<i32>(cols, 20), N);
    // Columns 0 and 1 are the left neighbour's 4 and 5 when it came just before.
    const first = t > t0 && tx > 0 ? 2 : 0;
    const base = (4 * tx) % 6;
    const s0 = <usize>slotOf(base, 0), s1 = <usize>slotOf(base, 1), s2 = <usize>slotOf(base, 2);
    const s3 = <usize>slotOf(base, 3), s4 = <usize>slotOf(base, 4), s5 = <usize>slotOf(base, 5);
    const vt = V + <usize>(t - t0) * cb;
    for (let c: usize = 0; c < cb; c += 16) {
      const rc = ring + c * 36;
      // Bᵀ d, column by column: rc[6·row + slot].
      for (let j = first; j < 6; j++) {
        const o = rc + (<usize>slotOf(base, j) << 4);
        if (inside) {
          const p = x + o0 + <usize>load<u32>(cols + 24 + (<usize>j << 2)) + c;
          storeBt6(
            o, 96, ld(p), ld(p + rowBytes), ld(p + 2 * rowBytes), ld(p + 3 * rowBytes),
            ld(p + 4 * rowBytes), ld(p + 5 * rowBytes),
          );
        } else {
          const cj = load<i32>(cols + (<usize>j << 2));
          const p = x + <usize>load<u32>(cols + 24 + (<usize>j << 2)) + c;
          storeBt6(
            o, 96,
            pixelAt(p + o0, r0, cj, N), pixelAt(p + o1, r1, cj, N), pixelAt(p + o2, r2, cj, N),
            pixelAt(p + o3, r3, cj, N), pixelAt(p + o4, r4, cj, N), pixelAt(p + o5, r5, cj, N),
          );
        }
      }
      // Then each row of Bᵀ d times B.
      for (let i = 0; i < 6; i++) {
        const p = rc + <usize>i * 96;
        storeBt6(
          vt + c + <usize>(6 * i) * vPlane, vPlane,
          ld(p + (s0 << 4)), ld(p + (s1 << 4)), ld(p + (s2 << 4)), ld(p + (s3 << 4)), ld(p + (s4 << 4)), ld(p + (s5 << 4)),
        );
      }
    }
  }
}

/** The ring slot of column j for a tile whose column 0 is in slot `base`. */
// @ts-ignore: decorator
@inline
function slotOf(base: i32, j: i32): i32 {
  const s = base + j;
  return s >= 6 ? s - 6 : s;
}

/**
 * A 3×3, stride-1 convolution padded to keep the size ("same"), by
 * Winograd F(4×4, 3×3): out [N, H, W, Co] = act(x [N, H, W, C] ⊛ g + bias)
 * with U = winogradFilter(g), `bias` 0 for none, `relu` 1 for ReLU.
 * C a multiple of 4, Co of 8.
 *
 * The 4×4 output tiles (per image, or over a mosaic of K images to a row:
 * see tileRowsOf) are processed in blocks of T (a multiple of 6) tiles,
 * blocks [k0, k1) by this call. `scratch` holds 36·T·(C + Co) + 160 + 36·C floats
 * for one block.
 */
export function winogradConv3x3(
  x: usize, U: usize, bias: usize, out: usize, scratch: usize,
  N: i32, H: i32, W: i32, C: i32, Co: i32, relu: i32, T: i32, K: i32,
  k0: i32, k1: i32,
): void {
  const tc = tileColsOf(W, K);
  const total = tileRowsOf(N, H, K) * tc;
  const cb = <usize>C << 2, ob = <usize>Co << 2;
  const vPlane = <usize>T * cb, mPlane = <usize>T * ob, uPlane = <usize>C * ob;
  const V = scratch, M = scratch + 36 * vPlane, tmp = M + 36 * mPlane;
  const cols = tmp + 576;
  const zero = f32x4.splat(0), two = f32x4.splat(2), four = f32x4.splat(4), eight = f32x4.splat(8);
  for (let k = k0; k < k1; k++) {
    const t0 = k * T;
    const t1 = min(total, t0 + T);
    transformInput6(x, V, vPlane, N, H, W, K, cb, t0, t1, tmp);
    // M[ξ] (tiles × Co) = V[ξ] (tiles × C) · U[ξ] (C × Co), 6 × 8 at a time.
    // Rows past the block's last tile are computed and never read.
    const rows = t1 - t0;
    for (let xi = 0; xi < 36; xi++) {
      const A = V + <usize>xi * vPlane, B = U + <usize>xi * uPlane, D = M + <usize>xi * mPlane;
      for (let j = 0; j < rows; j += 6) {
        const aj = A + <usize>j * cb, dj = D + <usize>j * ob;
        for (let n0: usize = 0; n0 < ob; n0 += 32) {
          gemmTile6x8(dj + n0, aj, B + n0, cb, 4, ob, ob, C, true, false, 0, 0);
        }
      }
    }
    // out tile = Aᵀ m A + bias, then ReLU; pixels outside the images are dropped.
    for (let t = t0; t < t1; t++) {
      const ty = t / tc, tx = t - ty * tc;
      const r0 = rowImage(ty, 0, H, K), r1 = rowImage(ty, 1, H, K);
      const r2 = rowImage(ty, 2, H, K), r3 = rowImage(ty, 3, H, K);
      const o0 = rowOffset(ty, 0, H, W, K, ob), o1 = rowOffset(ty, 1, H, W, K, ob);
      const o2 = rowOffset(ty, 2, H, W, K, ob), o3 = rowOffset(ty, 3, H, W, K, ob);
      tileColumns(cols, tx, 0, 4, H, W, K, ob);
      const mt = M + <usize>(t - t0) * ob;
      for (let c: usize = 0; c < ob; c += 16) {
        // m Aᵀ… row by row: tmp[4·row + column] = (row of m) · A.
        for (let i = 0; i < 6; i++) {
          const p = mt + c + <usize>(6 * i) * mPlane;
          const m0 = ld(p), m1 = ld(p + mPlane), m2 = ld(p + 2 * mPlane);
          const m3 = ld(p + 3 * mPlane), m4 = ld(p + 4 * mPlane), m5 = ld(p + 5 * mPlane);
          const a1 = f32x4.add(m1, m2), a2 = f32x4.add(m3, m4);
          const s1 = f32x4.sub(m1, m2), s2 = f32x4.sub(m3, m4);
          const q = tmp + (<usize>i << 6);
          v128.store(q, f32x4.add(f32x4.add(m0, a1), a2));
          v128.store(q, f32x4.add(s1, f32x4.mul(two, s2)), 16);
          v128.store(q, f32x4.add(a1, f32x4.mul(four, a2)), 32);
          v128.store(q, f32x4.add(f32x4.add(s1, f32x4.mul(eight, s2)), m5), 48);
        }
        // …then Aᵀ times each column: output column j of the tile.
        const bv = bias != 0 ? ld(bias + c) : zero;
        for (let j = 0; j < 4; j++) {
          const cj = load<i32>(cols + (<usize>j << 2));
          if (cj >= N) continue;
          const p = tmp + (<usize>j << 4);
          const m0 = ld(p), m1 = ld(p + 64), m2 = ld(p + 128);
          const m3 = ld(p + 192), m4 = ld(p + 256), m5 = ld(p + 320);
          const a1 = f32x4.add(m1, m2), a2 = f32x4.add(m3, m4);
          const s1 = f32x4.sub(m1, m2), s2 = f32x4.sub(m3, m4);
          let y0 = f32x4.add(f32x4.add(f32x4.add(m0, a1), a2), bv);
          let y1 = f32x4.add(f32x4.add(s1, f32x4.mul(two, s2)), bv);
          let y2 = f32x4.add(f32x4.add(a1, f32x4.mul(four, a2)), bv);
          let y3 = f32x4.add(f32x4.add(f32x4.add(s1, f32x4.mul(eight, s2)), m5), bv);
          if (relu) {
            y0 = reluV(y0); y1 = reluV(y1);
            y2 = reluV(y2); y3 = reluV(y3);
          }
          const q = out + <usize>load<u32>(cols + 24 + (<usize>j << 2)) + c;
          if (r0 + cj < N) v128.store(q + o0, y0);
          if (r1 + cj < N) v128.store(q + o1, y1);
          if (r2 + cj < N) v128.store(q + o2, y2);
          if (r3 + cj < N) v128.store(q + o3, y3);
        }
      }
    }
  }
}

/**
 * Y[ξ][t − t0][c] = (A e Aᵀ)[ξ] for 4×4 output tiles [t0, t1) of
 * dy [N, H, W, Co], e being each tile of dy (zero outside the images; tiles
 * as winogradConv3x3's): the gradient of the F(4×4, 3×3) products with
 * respect to their 6×6 transformed inputs. `tmp` holds 24·4 floats and 12
 * words after 36·4 floats.
 */
function transformDy6(
  dy: usize, Y: usize, yPlane: usize, N: i32, H: i32, W: i32, K: i32, ob: usize,
  t0: i32, t1: i32, tmp: usize,
): void {
  const tc = tileColsOf(W, K);
  const cols = tmp + 576;
  for (let t = t0; t < t1; t++) {
    const ty = t / tc, tx = t - ty * tc;
    const r0 = rowImage(ty, 0, H, K), r1 = rowImage(ty, 1, H, K);
    const r2 = rowImage(ty, 2, H, K), r3 = rowImage(ty, 3, H, K);
    const o0 = rowOffset(ty, 0, H, W, K, ob), o1 = rowOffset(ty, 1, H, W, K, ob);
    const o2 = rowOffset(ty, 2, H, W, K, ob), o3 = rowOffset(ty, 3, H, W, K, ob);
    tileColumns(cols, tx, 0, 4, H, W, K, ob);
    // The whole tile in one image: no pixel to test.
    const inside = tileInside(r0, r3, load<i32>(cols), load<i32>(cols, 12), N);
    const yt = Y + <usize>(t - t0) * ob;
    for (let c: usize = 0; c < ob; c += 16) {
      // A e, column by column: tmp[4·row + column], rows 0…5.
      for (let j = 0; j < 4; j++) {
        const q = dy + <usize>load<u32>(cols + 24 + (<usize>j << 2)) + c;
        if (inside) {
          storeA6(tmp + (<usize>j << 4), 64, ld(q + o0), ld(q + o1), ld(q + o2), ld(q + o3));
        } else {
          const cj = load<i32>(cols + (<usize>j << 2));
          storeA6(
            tmp + (<usize>j << 4), 64,
            pixelAt(q + o0, r0, cj, N), pixelAt(q + o1, r1, cj, N),
            pixelAt(q + o2, r2, cj, N), pixelAt(q + o3, r3, cj, N),
          );
        }
      }
      // Then each row of A e times Aᵀ.
      for (let i = 0; i < 6; i++) {
        const q = tmp + (<usize>i << 6);
        storeA6(yt + c + <usize>(6 * i) * yPlane, yPlane, ld(q), ld(q + 16), ld(q + 32), ld(q + 48));
      }
    }
  }
}

/** Stores A x for x = (x0 … x3): six values `step` bytes apart. */
// @ts-ignore: decorator
@inline
function storeA6(o: usize, step: usize, x0: v128, x1: v128, x2: v128, x3: v128): void {
  const p = f32x4.add(x0, x2), q = f32x4.add(x1, x3);
  const r = f32x4.add(x0, f32x4.mul(f32x4.splat(4), x2));
  const s = f32x4.add(f32x4.mul(f32x4.splat(2), x1), f32x4.mul(f32x4.splat(8), x3));
  v128.store(o, x0);
  v128.store(o + step, f32x4.add(p, q));
  v128.store(o + 2 * step, f32x4.sub(p, q));
  v128.store(o + 3 * step, f32x4.add(r, s));
  v128.store(o + 4 * step, f32x4.sub(r, s));
  v128.store(o + 5 * step, x3);
}

/**
 * The filter gradient of winogradConv3x3 (F(4×4, 3×3)), in the transformed
 * domain: partial k (36·C·Co floats at partials + k·36·C·Co·4) = Σ over
 * tiles [k·G, (k+1)·G) (tiles as winogradConv3x3's) of V[ξ]ᵀ Y[ξ], for
 * blocks [k0, k1). `scratch` holds 36·T·(C + Co) + 160 + 36·C floats (T tiles at
 * a time). winogradFilterGradSum turns the partials into dW.
 */
export function winogradFilterGrad(
  x: usize, dy: usize, partials: usize, scratch: usize,
  N: i32, H: i32, W: i32, C: i32, Co: i32, T: i32, G: i32, K: i32,
  k0: i32, k1: i32,
): void {
  const total = tileRowsOf(N, H, K) * tileColsOf(W, K);
  const cb = <usize>C << 2, ob = <usize>Co << 2;
  const vPlane = <usize>T * cb, yPlane = <usize>T * ob, pPlane = <usize>C * ob;
  const V = scratch, Y = scratch + 36 * vPlane, tmp = Y + 36 * yPlane;
  // Channels in 6s, then (C/4 mod 3) fours: C − 4·that divides by 12.
  const c6 = cb - 16 * <usize>((C >> 2) % 3);
  for (let k = k0; k < k1; k++) {
    const P = partials + <usize>k * 36 * pPlane;
    const end = min(total, (k + 1) * G);
    for (let t0 = k * G; t0 < end; t0 += T) {
      const t1 = min(end, t0 + T);
      const rows = t1 - t0;
      // The block's first tiles start its sums from zero.
      const first = t0 == k * G;
      transformInput6(x, V, vPlane, N, H, W, K, cb, t0, t1, tmp);
      transformDy6(dy, Y, yPlane, N, H, W, K, ob, t0, t1, tmp);
      // P[ξ] (C × Co) += V[ξ]ᵀ (C × rows) · Y[ξ] (rows × Co).
      for (let xi = 0; xi < 36; xi++) {
        const A = V + <usize>xi * vPlane, B = Y + <usize>xi * yPlane;
        const D = P + <usize>xi * pPlane;
        // Rows of this product are channels (4 bytes apart), its depth
        // tiles: 6 channels at a time, then the last 4 or 8 in fours.
        let c0: usize = 0;
        for (; c0 < c6; c0 += 24) {
          for (let n0: usize = 0; n0 < ob; n0 += 32) {
            gemmTile6x8(D + (c0 >> 2) * ob + n0, A + c0, B + n0, 4, cb, ob, ob, rows, first, false, 0, 0);
          }
        }
        for (; c0 < cb; c0 += 16) {
          for (let n0: usize = 0; n0 < ob; n0 += 32) {
            gemmTile4x8(D + (c0 >> 2) * ob + n0, A + c0, B + n0, 4, cb, ob, ob, rows, first, false, 0, 0);
          }
        }
      }
    }
  }
}

/** Stores Gᵀ x for x = (x0 … x5): three values `step` bytes apart. */
// @ts-ignore: decorator
@inline
function storeGt3(
  o: usize, step: usize, x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128,
): void {
  const a = f32x4.add(x1, x2), b = f32x4.add(x3, x4);
  const c = f32x4.sub(x2, x1), d = f32x4.sub(x3, x4);
  const sixth = f32x4.splat(<f32>1 / 6);
  v128.store(o, f32x4.add(
    f32x4.sub(f32x4.mul(x0, f32x4.splat(0.25)), f32x4.mul(a, sixth)),
    f32x4.mul(b, f32x4.splat(<f32>1 / 24)),
  ));
  v128.store(o + step, f32x4.add(f32x4.mul(c, sixth), f32x4.mul(d, f32x4.splat(<f32>1 / 12))));
  v128.store(o + 2 * step, f32x4.add(f32x4.mul(f32x4.sub(b, a), sixth), x5));
}

/**
 * dW [3, 3, C, Co] = Gᵀ S G with S[ξ] the sum of `blocks` partials of
 * winogradFilterGrad, added in block order (so the result does not depend
 * on which thread computed which block). The C·Co filter positions are cut
 * into ranges of 256 (four at a time): this call computes ranges [k0, k1).
 * A range's sums are made first, partial after partial, each a run of
 * 1 KiB per plane, into `tmp` (36 × 256 floats, a position's 36 values
 * side by side, then 18·4 floats for Gᵀ S): read a position at a time
 * instead, the 36 planes and the blocks, powers of two apart, would all
 * fall in the same cache sets.
 */
export function winogradFilterGradSum(
  partials: usize, blocks: i32, dW: usize, C: i32, Co: i32, tmp: usize,
  k0: i32, k1: i32,
): void {
  const pPlane = <usize>C * <usize>Co << 2;
  const block = 36 * pPlane;
  const rowsG = tmp + 36 * 1024;
  const end = min(pPlane, <usize>k1 << 10);
  for (let at0: usize = <usize>k0 << 10; at0 < end; at0 += 1024) {
    const n = min<usize>(1024, end - at0);
    // S: tmp[36·position + ξ], summed in block order.
    for (let k = 0; k < blocks; k++) {
      const pk = partials + <usize>k * block + at0;
      for (let xi = 0; xi < 36; xi++) {
        const p = pk + <usize>xi * pPlane;
        let q = tmp + (<usize>xi << 4);
        for (let v: usize = 0; v < n; v += 16) {
          v128.store(q, k == 0 ? ld(p + v) : f32x4.add(ld(q), ld(p + v)));
          q += 576;
        }
      }
    }
    for (let v: usize = 0; v < n; v += 16) {
      const S = tmp + v * 36;
      // Gᵀ S, column by column: rowsG[6·row + column], rows 0…2.
      for (let j = 0; j < 6; j++) {
        const q = S + (<usize>j << 4);
        storeGt3(rowsG + (<usize>j << 4), 96, ld(q), ld(q + 96), ld(q + 192), ld(q + 288), ld(q + 384), ld(q + 480));
      }
      // Then each row times G: dW[ky][kx].
      for (let r = 0; r < 3; r++) {
        const q = rowsG + <usize>r * 96;
        storeGt3(dW + at0 + v + <usize>(3 * r) * pPlane, pPlane, ld(q), ld(q + 16), ld(q + 32), ld(q + 48), ld(q + 64), ld(q + 80));
      }
    }
  }
}

// ---------------------------------------------------------------------------
// A first layer: 3×3 "same" convolution of a one-channel image.

/**
 * out [N, H, W, Co] = act(x [N, H, W, 1] ⊛ w [3, 3, 1, Co] + bias), stride
 * 1, one pixel of zero padding; `bias` 0 for none, `relu` 1 for ReLU, Co a
 * multiple of 8. Blocks are images: this call computes images [k0, k1).
 * `scratch` holds (H + 2)·(W + 6) floats: the image with a zero border.
 * Four pixels of a row and eight channels at a time: each tap is 2 loads
 * of weights, 4 of pixels and 8 multiply-adds.
 */
export function conv3x3Single(
  x: usize, w: usize, bias: usize, out: usize, scratch: usize,
  N: i32, H: i32, W: i32, Co: i32, relu: i32, k0: i32, k1: i32,
): void {
  const PW = W + 6, pr = <usize>PW << 2;
  const ob = <usize>Co << 2, tap = ob;
  const zero = f32x4.splat(0);
  // The border stays zero: each image only overwrites the inside.
  memory.fill(scratch, 0, <usize>(H + 2) * pr);
  for (let n = k0; n < k1; n++) {
    for (let y = 0; y < H; y++) {
      memory.copy(scratch + <usize>(y + 1) * pr + 4, x + <usize>(n * H + y) * W * 4, <usize>W << 2);
    }
    for (let y = 0; y < H; y++) {
      const row = scratch + <usize>y * pr;
      const o = out + <usize>(n * H + y) * W * ob;
      for (let x0 = 0; x0 < W; x0 += 4) {
        const left = W - x0;
        for (let c: usize = 0; c < ob; c += 32) {
          let b0 = zero, b1 = zero;
          if (bias != 0) {
            b0 = ld(bias + c); b1 = v128.load(bias + c, 16);
          }
          let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
          for (let ky = 0; ky < 3; ky++) {
            const p = row + <usize>ky * pr + (<usize>x0 << 2);
            const q = w + <usize>(3 * ky) * tap + c;
            for (let kx: usize = 0; kx < 3; kx++) {
              const w0 = ld(q + kx * tap), w1 = v128.load(q + kx * tap, 16);
              const pk = p + (kx << 2);
              let s = v128.load32_splat(pk);
              a00 = fma(s, w0, a00); a01 = fma(s, w1, a01);
              s = v128.load32_splat(pk + 4);
              a10 = fma(s, w0, a10); a11 = fma(s, w1, a11);
              s = v128.load32_splat(pk + 8);
              a20 = fma(s, w0, a20); a21 = fma(s, w1, a21);
              s = v128.load32_splat(pk + 12);
              a30 = fma(s, w0, a30); a31 = fma(s, w1, a31);
            }
          }
          if (relu) {
            a00 = reluV(a00); a01 = reluV(a01);
            a10 = reluV(a10); a11 = reluV(a11);
            a20 = reluV(a20); a21 = reluV(a21);
            a30 = reluV(a30); a31 = reluV(a31);
          }
          const d = o + <usize>x0 * ob + c;
          v128.store(d, a00); v128.store(d, a01, 16);
          if (left > 1) { v128.store(d + ob, a10); v128.store(d + ob, a11, 16); }
          if (left > 2) { v128.store(d + 2 * ob, a20); v128.store(d + 2 * ob, a21, 16); }
          if (left > 3) { v128.store(d + 3 * ob, a30); v128.store(d + 3 * ob, a31, 16); }
        }
      }
    }
  }
}

/**
 * The filter and bias gradients of conv3x3Single's convolution, summed over
 * blocks of G images: block k adds images [k·G, (k+1)·G) of
 * x [N, H, W, 1] and dy [N, H, W, Co] into `part` + k·10·Co floats — nine
 * rows of Co for the taps (ky, kx), then one for the bias (the sum of dy).
 * `scratch` holds (H + 2)·(W + 6) floats, as conv3x3Single's. Co a multiple
 * of 8; blocks [k0, k1). Per image, each pass takes one filter row (three
 * taps) and eight channels over every pixel: two loads of dy, three of
 * pixels and six multiply-adds (eight with the bias, on the first row).
 */
export function conv3x3SingleGrad(
  x: usize, dy: usize, part: usize, scratch: usize,
  N: i32, H: i32, W: i32, Co: i32, G: i32, k0: i32, k1: i32,
): void {
  const PW = W + 6, pr = <usize>PW << 2;
  const ob = <usize>Co << 2;
  memory.fill(scratch, 0, <usize>(H + 2) * pr);
  for (let k = k0; k < k1; k++) {
    const P = part + <usize>k * 10 * ob;
    memory.fill(P, 0, 10 * ob);
    const n1 = min(N, (k + 1) * G);
    for (let n = k * G; n < n1; n++) {
      for (let y = 0; y < H; y++) {
        memory.copy(scratch + <usize>(y + 1) * pr + 4, x + <usize>(n * H + y) * W * 4, <usize>W << 2);
      }
      const img = dy + <usize>n * H * W * ob;
      for (let c: usize = 0; c < ob; c += 32) {
        for (let ky = 0; ky < 3; ky++) {
          const q = P + <usize>(3 * ky) * ob + c;
          let t0a = ld(q), t0b = v128.load(q, 16);
          let t1a = ld(q + ob), t1b = v128.load(q + ob, 16);
          let t2a = ld(q + 2 * ob), t2b = v128.load(q + 2 * ob, 16);
          const bq = P + 9 * ob + c;
          let ba = ld(bq), bb = v128.load(bq, 16);
          for (let y = 0; y < H; y++) {
            const row = scratch + <usize>(y + ky) * pr;
            const d = img + <usize>y * W * ob + c;
            for (let i: usize = 0; i < <usize>W; i++) {
              const ga = ld(d + i * ob), gb = v128.load(d + i * ob, 16);
              const p = row + (i << 2);
              let s = v128.load32_splat(p);
              t0a = fma(s, ga, t0a); t0b = fma(s, gb, t0b);
              s = v128.load32_splat(p + 4);
              t1a = fma(s, ga, t1a); t1b = fma(s, gb, t1b);
              s = v128.load32_splat(p + 8);
              t2a = fma(s, ga, t2a); t2b = fma(s, gb, t2b);
              // The bias once, with the first filter row.
              if (ky == 0) { ba = f32x4.add(ba, ga); bb = f32x4.add(bb, gb); }
            }
          }
          v128.store(q, t0a); v128.store(q, t0b, 16);
          v128.store(q + ob, t1a); v128.store(q + ob, t1b, 16);
          v128.store(q + 2 * ob, t2a); v128.store(q + 2 * ob, t2b, 16);
          if (ky == 0) { v128.store(bq, ba); v128.store(bq, bb, 16); }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Dense products, packing only a strip of B at a time.

/** Depth of the slice of B a tile column keeps in L1 (256 × 32 B). */
const GEMM_DEPTH_SLICE = 256;

/** Bytes of scratch one thread's `gemm` needs: one packed strip of B. */
const GEMM_SCRATCH_BYTES: i32 = GEMM_DEPTH_SLICE * 32; // runGemm (mod.ts) gives each thread this much

/**
 * C (M × N, row-major) = A · B (+ bias, then ReLU if `relu`), where
 * A[i][k] is at A + (i·ars + k·acs)·4 (so a transposed A costs nothing)
 * and B is row-major with rows `ldb` floats apart. M a multiple of 4, N of
 * 8. `bias` (N floats) is 0 for none. The output is cut into blocks of
 * MB × NB (multiples of 4 and 8), and the depth K into chunks of KB: chunk
 * c writes its partial product to C + c·M·N·4 (bias and ReLU only make
 * sense with one chunk). This call computes blocks [k0, k1), numbered
 * chunk by chunk, row-major within a chunk.
 *
 * A block's rows are taken 6 at a time (12 accumulators: 12 multiply-adds
 * per 8 loads), with one or two 4-row tiles where the rows do not divide
 * by 6. Within a block the depth is walked in slices of GEMM_DEPTH_SLICE:
 * every tile of a column strip reuses that slice of B from L1, adding to
 * what the previous slices left in C (twice the speed of one pass over the
 * whole depth per tile when B is tall, as the dense layer's 3136 × 512).
 * That strip is first copied to `scratch` (GEMM_SCRATCH_BYTES per thread),
 * its 8-float rows next to each other: read in place, rows `ldb` floats
 * apart, a stride of 2 KiB (the dense layer's 512 columns) puts all of them
 * in two of L1's 64 sets, which hold 16 lines, so they would come from L2
 * every time. Each output is the same sum in the same order whatever the
 * tiling.
 */
export function gemm(
  A: usize, ars: i32, acs: i32, B: usize, ldb: i32, C: usize, scratch: usize,
  M: i32, N: i32, K: i32, bias: usize, relu: i32, MB: i32, NB: i32, KB: i32,
  k0: i32, k1: i32,
): void {
  const colBlocks = (N + NB - 1) / NB;
  const perChunk = ((M + MB - 1) / MB) * colBlocks;
  const rs = <usize>ars << 2, ks = <usize>acs << 2, bs = <usize>ldb << 2;
  const cs = <usize>N << 2;
  for (let k = k0; k < k1; k++) {
    const chunk = k / perChunk, rest = k - chunk * perChunk;
    const rb = rest / colBlocks, cb = rest - rb * colBlocks;
    const i0b = rb * MB, i1 = min(M, i0b + MB);
    const j0b = cb * NB, j1 = min(N, j0b + NB);
    // Rows in 6s, then (rows/4 mod 3) tiles of 4: rows − 4·that divides by 12.
    const fours = ((i1 - i0b) >> 2) % 3;
    const i6 = i1 - 4 * fours;
    const depth = max(0, min(K - chunk * KB, KB));
    const Ak = A + <usize>(chunk * KB) * ks, Bk = B + <usize>(chunk * KB) * bs;
    const Ck = C + <usize>chunk * <usize>M * cs;
    let d0 = 0;
    do {
      const d1 = min(depth, d0 + GEMM_DEPTH_SLICE);
      const first = d0 == 0, last = d1 == depth;
      for (let j0 = j0b; j0 < j1; j0 += 8) {
        const src = Bk + <usize>d0 * bs + (<usize>j0 << 2);
        for (let d = 0; d < d1 - d0; d++) {
          const from = src + <usize>d * bs, to = scratch + (<usize>d << 5);
          v128.store(to, ld(from));
          v128.store(to, v128.load(from, 16), 16);
        }
        const b = scratch;
        const bj = bias != 0 ? bias + (<usize>j0 << 2) : 0;
        let i0 = i0b;
        for (; i0 < i6; i0 += 6) {
          gemmTile6x8(
            Ck + <usize>i0 * cs + (<usize>j0 << 2), Ak + <usize>i0 * rs + <usize>d0 * ks, b,
            rs, ks, 32, cs, d1 - d0, first, last, bj, relu,
          );
        }
        for (; i0 < i1; i0 += 4) {
          gemmTile4x8(
            Ck + <usize>i0 * cs + (<usize>j0 << 2), Ak + <usize>i0 * rs + <usize>d0 * ks, b,
            rs, ks, 32, cs, d1 - d0, first, last, bj, relu,
          );
        }
      }
      d0 = d1;
    } while (d0 < depth);
  }
}

/** [Σa, Σb, Σc, Σd]: the four lane sums of four vectors, in one. */
// @ts-ignore: decorator
@inline
function laneSums(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 2, 6), v128.shuffle<f32>(a, b, 1, 5, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 2, 6), v128.shuffle<f32>(c, d, 1, 5, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/**
 * C (M × N, row-major) = A · Bᵀ (+ bias, then ReLU if `relu`) for A (M × K)
 * and B (N × K), both row-major: every output is a dot product of two
 * contiguous rows, so neither operand nor the result is transposed (the
 * dense layer's input gradient dy · Wᵀ reads W as it is). M a multiple of
 * 2, N and K of 4. Tiles of 2 rows of A × 4 rows of B; blocks are strips of
 * NB rows of B (NB a multiple of 4) against all of A; this call computes
 * blocks [k0, k1).
 */
export function gemmNT(
  A: usize, B: usize, C: usize, M: i32, N: i32, K: i32, bias: usize, relu: i32,
  NB: i32, k0: i32, k1: i32,
): void {
  const ks = <usize>K << 2, cs = <usize>N << 2;
  const zero = f32x4.splat(0);
  for (let blk = k0; blk < k1; blk++) {
    const j1 = min(N, (blk + 1) * NB);
    for (let j0 = blk * NB; j0 < j1; j0 += 4) {
      const b0 = B + <usize>j0 * ks;
      const p = bias != 0 ? ld(bias + (<usize>j0 << 2)) : zero;
      for (let i0 = 0; i0 < M; i0 += 2) {
        let c00 = zero, c01 = zero, c02 = zero, c03 = zero;
        let c10 = zero, c11 = zero, c12 = zero, c13 = zero;
        const a0 = A + <usize>i0 * ks, a1 = a0 + ks;
        for (let k: usize = 0; k < ks; k += 16) {
          const x0 = ld(a0 + k), x1 = ld(a1 + k);
          let w = ld(b0 + k);
          c00 = fma(x0, w, c00); c10 = fma(x1, w, c10);
          w = ld(b0 + ks + k);
          c01 = fma(x0, w, c01); c11 = fma(x1, w, c11);
          w = ld(b0 + 2 * ks + k);
          c02 = fma(x0, w, c02); c12 = fma(x1, w, c12);
          w = ld(b0 + 3 * ks + k);
          c03 = fma(x0, w, c03); c13 = fma(x1, w, c13);
        }
        let r0 = f32x4.add(laneSums(c00, c01, c02, c03), p);
        let r1 = f32x4.add(laneSums(c10, c11, c12, c13), p);
        if (relu) {
          r0 = reluV(r0);
          r1 = reluV(r1);
        }
        const o = C + <usize>i0 * cs + (<usize>j0 << 2);
        v128.store(o, r0);
        v128.store(o + cs, r1);
      }
    }
  }
}

/**
 * The filter of a convolution's input gradient: out [KH, KW, Co, Ci] =
 * w [KH, KW, Ci, Co] rotated by 180° in space, channels swapped.
 */
export function flipSwapFilter(w: usize, out: usize, KH: i32, KW: i32, Ci: i32, Co: i32): void {
  const plane = <usize>Ci * <usize>Co;
  const taps = KH * KW;
  for (let t = 0; t < taps; t++) {
    const src = w + (<usize>(taps - 1 - t) * plane << 2);
    const dst = out + (<usize>t * plane << 2);
    for (let co = 0; co < Co; co++) {
      for (let ci = 0; ci < Ci; ci++) {
        store<f32>(
          dst + ((<usize>co * <usize>Ci + <usize>ci) << 2),
          load<f32>(src + ((<usize>ci * <usize>Co + <usize>co) << 2)),
        );
      }
    }
  }
}


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
// x is rows × C float32 (C a multiple of 4). Sums go to f64 accumulators
// acc[0..C) and acc[C..2C), which the caller zeroes; each block of ROWS
// rows is summed in f32 registers, then added in f64.

const ROWS = 64;

// @ts-ignore: decorator
@inline
function addToF64(acc: usize, c: i32, v: v128): void {
  const p = acc + (<usize>c << 3);
  v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(v)));
  const hi = v128.shuffle<f32>(v, v, 2, 3, 0, 1);
  v128.store(p + 16, f64x2.add(v128.load(p + 16), f64x2.promote_low_f32x4(hi)));
}

/** acc[c] += Σ (x − shift[c]), acc[C + c] += Σ (x − shift[c])². */
export function momentsAcc(x: usize, rows: i32, C: i32, shift: usize, acc: usize): void {
  const stride = <usize>C << 2;
  for (let r0 = 0; r0 < rows; r0 += ROWS) {
    const r1 = min(rows, r0 + ROWS);
    for (let c = 0; c < C; c += 4) {
      const k = v128.load(shift + (<usize>c << 2));
      let s1 = f32x4.splat(0), s2 = f32x4.splat(0);
      let p = x + <usize>r0 * stride + (<usize>c << 2);
      for (let r = r0; r < r1; r++) {
        const d = f32x4.sub(v128.load(p), k);
        s1 = f32x4.add(s1, d);
        s2 = f32x4.add(s2, f32x4.mul(d, d));
        p += stride;
      }
      addToF64(acc, c, s1);
      addToF64(acc, C + c, s2);
    }
  }
}

/** acc[c] += Σ dy, acc[C + c] += Σ dy · (x − mean[c]). */
export function bnGradAcc(x: usize, dy: usize, rows: i32, C: i32, mean: usize, acc: usize): void {
  const stride = <usize>C << 2;
  for (let r0 = 0; r0 < rows; r0 += ROWS) {
    const r1 = min(rows, r0 + ROWS);
    for (let c = 0; c < C; c += 4) {
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

/** y = (x − m[c]) · a[c] + b[c]. */
export function normalizeRows(
  x: usize, y: usize, rows: i32, C: i32, m: usize, a: usize, b: usize,
): void {
  const stride = <usize>C << 2;
  for (let c = 0; c < C; c += 4) {
    const o = <usize>c << 2;
    const vm = v128.load(m + o), va = v128.load(a + o), vb = v128.load(b + o);
    let px = x + o, py = y + o;
    for (let r = 0; r < rows; r++) {
      v128.store(py, f32x4.add(f32x4.mul(f32x4.sub(v128.load(px), vm), va), vb));
      px += stride;
      py += stride;
    }
  }
}

/** dx = a[c] · dy + b[c] · x + d[c]. */
export function bnGradRows(
  x: usize, dy: usize, dx: usize, rows: i32, C: i32, a: usize, b: usize, d: usize,
): void {
  const stride = <usize>C << 2;
  for (let c = 0; c < C; c += 4) {
    const o = <usize>c << 2;
    const va = v128.load(a + o), vb = v128.load(b + o), vd = v128.load(d + o);
    let px = x + o, pg = dy + o, pd = dx + o;
    for (let r = 0; r < rows; r++) {
      v128.store(pd, f32x4.add(
        f32x4.add(f32x4.mul(v128.load(pg), va), f32x4.mul(v128.load(px), vb)),
        vd,
      ));
      px += stride;
      pg += stride;
      pd += stride;
    }
  }
}

/**
 * Gradient of 2×2, stride-2 max pooling that tiles x exactly: x is
 * [bh = N·OH rows of 2 input rows][2·OW][C], dy is [bh][OW][C]. Each window's
 * gradient goes to its first maximum (as a loop keeping the first and
 * replacing it only by a larger value would pick); the others get zero.
 */
export function maxPool2x2Grad(x: usize, dy: usize, dx: usize, bh: i32, OW: i32, C: i32): void {
  const cb = <usize>C << 2;
  const rowStride = <usize>(2 * OW) * cb;
  let pg = dy;
  for (let i = 0; i < bh; i++) {
    const base = <usize>(2 * i) * rowStride;
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

/**
 * One SGD-with-momentum step over n floats: v' = m·v + negLr·g, w' = w + v',
 * each product and sum rounded to f32 (bit for bit the op-by-op update).
 */
export function momentumUpdate(
  w: usize, v: usize, g: usize, vOut: usize, wOut: usize, n: i32, m: f32, negLr: f32,
): void {
  const vm = f32x4.splat(m), vl = f32x4.splat(negLr);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const next = f32x4.add(f32x4.mul(v128.load(v + o), vm), f32x4.mul(v128.load(g + o), vl));
    v128.store(vOut + o, next);
    v128.store(wOut + o, f32x4.add(v128.load(w + o), next));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const next = load<f32>(v + o) * m + load<f32>(g + o) * negLr;
    store<f32>(vOut + o, next);
    store<f32>(wOut + o, load<f32>(w + o) + next);
  }
}

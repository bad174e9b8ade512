;; Golem Clay demo task: one tile of a Mandelbrot image, as RGBA bytes.
;; ABI: docs/task-abi.md (imports env.memory and env.progress; exports alloc and run).
;;
;; Input, 44 bytes, little-endian:
;;    0 f64 x0       real part of pixel column 0 of the whole image
;;    8 f64 y0       imaginary part of pixel row 0 (the top row)
;;   16 f64 step     distance between neighbouring pixels, both axes
;;   24 u32 left     the tile's first column in the whole image
;;   28 u32 top      the tile's first row
;;   32 u32 width    tile width in pixels
;;   36 u32 height   tile height in pixels
;;   40 u32 maxIter  iterations before a point counts as inside the set
;; Pixel (left + px, top + py) is c = (x0 + (left + px) * step, y0 - (top + py) * step):
;; computed from whole-image coordinates, so tiles never depend on how the
;; image was cut. Output: width * height * 4 bytes, rows top to bottom,
;; R G B A per pixel; inside the set is opaque black.
;;
;; Only correctly rounded IEEE operations (add, sub, mul, div) and integer
;; maths, no fused multiply-add: the same bytes on every engine.
(module
  (import "env" "memory" (memory 1))
  (import "env" "progress" (func $progress (param f64)))

  ;; palette: 5 key colours (R G B) at offset 64, blended in 64 steps each
  (data (i32.const 64) "\00\07\64" "\20\6b\cb" "\ed\ff\ff" "\ff\aa\00" "\00\02\00")

  (global $heap (mut i32) (i32.const 1024))

  (func $exhaust
    (loop $grow
      (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable)

  ;; bump allocator; on failure grows to the host's cap and traps (a memory error)
  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $ptr i32) (local $end i64) (local $need i64)
    (local.set $ptr (global.get $heap))
    (local.set $end (i64.and
      (i64.add (i64.add (i64.extend_i32_u (local.get $ptr)) (i64.extend_i32_u (local.get $len))) (i64.const 7))
      (i64.const -8)))
    (if (i64.gt_u (local.get $end) (i64.const 0xFFFF0000)) (then (call $exhaust)))
    (local.set $need
      (i64.sub (i64.shr_u (i64.add (local.get $end) (i64.const 65535)) (i64.const 16))
               (i64.extend_i32_u (memory.size))))
    (if (i64.gt_s (local.get $need) (i64.const 0))
      (then
        (if (i32.eq (memory.grow (i32.wrap_i64 (local.get $need))) (i32.const -1))
          (then (call $exhaust)))))
    (global.set $heap (i32.wrap_i64 (local.get $end)))
    (local.get $ptr))

  ;; log2(x) for finite x >= 1: exponent plus a quadratic fit of the
  ;; mantissa (exact at 1 and 2, smooth in between); enough for colouring
  (func $log2 (param $x f64) (result f64)
    (local $bits i64) (local $t f64)
    (local.set $bits (i64.reinterpret_f64 (local.get $x)))
    (local.set $t (f64.sub
      (f64.reinterpret_i64 (i64.or (i64.and (local.get $bits) (i64.const 0x000FFFFFFFFFFFFF)) (i64.const 0x3FF0000000000000)))
      (f64.const 1)))
    (f64.add
      (f64.convert_i64_s (i64.sub (i64.and (i64.shr_u (local.get $bits) (i64.const 52)) (i64.const 0x7FF)) (i64.const 1023)))
      (f64.mul (local.get $t) (f64.sub (f64.const 1.3465) (f64.mul (f64.const 0.3465) (local.get $t))))))

  ;; one channel of the blend a + (b - a) * frac / 64
  (func $mix (param $a i32) (param $b i32) (param $frac i32) (result i32)
    (i32.add (local.get $a)
      (i32.div_s (i32.mul (i32.sub (local.get $b) (local.get $a)) (local.get $frac)) (i32.const 64))))

  ;; RGBA (as a little-endian i32) of an escaped point: smooth iteration count
  ;; mu = n + 2 - log2(log2 |z|^2), 16 palette steps per iteration
  (func $colour (param $n i32) (param $m f64) (result i32)
    (local $mu f64) (local $pos i32) (local $seg i32) (local $frac i32) (local $a i32) (local $b i32)
    (local.set $mu (f64.sub (f64.add (f64.convert_i32_u (local.get $n)) (f64.const 2))
                            (call $log2 (call $log2 (local.get $m)))))
    (if (f64.lt (local.get $mu) (f64.const 0)) (then (local.set $mu (f64.const 0))))
    (local.set $pos (i32.wrap_i64 (i64.rem_u (i64.trunc_f64_u (f64.mul (local.get $mu) (f64.const 16))) (i64.const 320))))
    (local.set $seg (i32.div_u (local.get $pos) (i32.const 64)))
    (local.set $frac (i32.rem_u (local.get $pos) (i32.const 64)))
    (local.set $a (i32.add (i32.const 64) (i32.mul (local.get $seg) (i32.const 3))))
    (local.set $b (i32.add (i32.const 64) (i32.mul (i32.rem_u (i32.add (local.get $seg) (i32.const 1)) (i32.const 5)) (i32.const 3))))
    (i32.or
      (i32.or
        (call $mix (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b)) (local.get $frac))
        (i32.shl (call $mix (i32.load8_u offset=1 (local.get $a)) (i32.load8_u offset=1 (local.get $b)) (local.get $frac)) (i32.const 8)))
      (i32.or
        (i32.shl (call $mix (i32.load8_u offset=2 (local.get $a)) (i32.load8_u offset=2 (local.get $b)) (local.get $frac)) (i32.const 16))
        (i32.const 0xFF000000))))

  (func $run (export "run") (param $ptr i32) (param $len i32) (result i32)
    (local $x0 f64) (local $y0 f64) (local $step f64)
    (local $left i32) (local $top i32) (local $width i32) (local $height i32) (local $maxIter i32)
    (local $bytes i64) (local $out i32) (local $p i32) (local $px i32) (local $py i32)
    (local $cr f64) (local $ci f64) (local $zr f64) (local $zi f64) (local $zr2 f64) (local $zi2 f64) (local $n i32)

    (if (i32.ne (local.get $len) (i32.const 44)) (then unreachable))
    (local.set $x0 (f64.load (local.get $ptr)))
    (local.set $y0 (f64.load offset=8 (local.get $ptr)))
    (local.set $step (f64.load offset=16 (local.get $ptr)))
    (local.set $left (i32.load offset=24 (local.get $ptr)))
    (local.set $top (i32.load offset=28 (local.get $ptr)))
    (local.set $width (i32.load offset=32 (local.get $ptr)))
    (local.set $height (i32.load offset=36 (local.get $ptr)))
    (local.set $maxIter (i32.load offset=40 (local.get $ptr)))
    (local.set $bytes (i64.shl (i64.mul (i64.extend_i32_u (local.get $width)) (i64.extend_i32_u (local.get $height))) (i64.const 2)))
    ;; the result block must fit in wasm32 memory; past the cap alloc traps
    (if (i64.gt_u (local.get $bytes) (i64.const 0xF0000000)) (then unreachable))

    (local.set $out (call $alloc (i32.add (i32.wrap_i64 (local.get $bytes)) (i32.const 4))))
    (i32.store (local.get $out) (i32.wrap_i64 (local.get $bytes)))
    (local.set $p (i32.add (local.get $out) (i32.const 4)))

    (local.set $py (i32.const 0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $py) (local.get $height)))
        (local.set $ci (f64.sub (local.get $y0)
          (f64.mul (f64.convert_i64_u (i64.add (i64.extend_i32_u (local.get $top)) (i64.extend_i32_u (local.get $py)))) (local.get $step))))
        (local.set $px (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $px) (local.get $width)))
            (local.set $cr (f64.add (local.get $x0)
              (f64.mul (f64.convert_i64_u (i64.add (i64.extend_i32_u (local.get $left)) (i64.extend_i32_u (local.get $px)))) (local.get $step))))
            (local.set $zr (f64.const 0))
            (local.set $zi (f64.const 0))
            (local.set $zr2 (f64.const 0))
            (local.set $zi2 (f64.const 0))
            (local.set $n (i32.const 0))
            (block $escape
              (loop $iterate
                (br_if $escape (i32.ge_u (local.get $n) (local.get $maxIter)))
                (local.set $zi (f64.add (f64.mul (f64.add (local.get $zr) (local.get $zr)) (local.get $zi)) (local.get $ci)))
                (local.set $zr (f64.add (f64.sub (local.get $zr2) (local.get $zi2)) (local.get $cr)))
                (local.set $zr2 (f64.mul (local.get $zr) (local.get $zr)))
                (local.set $zi2 (f64.mul (local.get $zi) (local.get $zi)))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                ;; bailout radius 256: large enough for smooth colouring
                (br_if $escape (f64.gt (f64.add (local.get $zr2) (local.get $zi2)) (f64.const 65536)))
                (br $iterate)))
            (i32.store (local.get $p)
              (if (result i32) (f64.gt (f64.add (local.get $zr2) (local.get $zi2)) (f64.const 65536))
                (then (call $colour (local.get $n) (f64.add (local.get $zr2) (local.get $zi2))))
                (else (i32.const 0xFF000000))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $px (i32.add (local.get $px) (i32.const 1)))
            (br $cols)))
        (local.set $py (i32.add (local.get $py) (i32.const 1)))
        (call $progress (f64.div (f64.convert_i32_u (local.get $py)) (f64.convert_i32_u (local.get $height))))
        (br $rows)))
    (local.get $out)))

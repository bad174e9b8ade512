;; Golem Clay demo task: count the primes in [from, to).
;; ABI: docs/task-abi.md (imports env.memory and env.progress; exports alloc and run).
;;
;; Input, 16 bytes: u64 LE from, u64 LE to, with to <= 2^48.
;; Output, 16 bytes: u64 LE count of primes p with from <= p < to,
;;                   u64 LE largest such prime (0 if none).
;; Anything else traps (unreachable).
;;
;; Segmented sieve of Eratosthenes over odd numbers: base primes up to
;; sqrt(to - 1) (at most 2^24, a few MiB), then windows of 64 Ki odd numbers.
(module
  (import "env" "memory" (memory 1))
  (import "env" "progress" (func $progress (param f64)))

  ;; bump allocator; bytes 0..1023 hold the result block
  (global $heap (mut i32) (i32.const 1024))

  (global $window i32 (i32.const 65536))

  ;; Makes memory cover [0, end). When it cannot, grows page by page up to
  ;; the host's cap and traps there, so the host reports a memory error.
  (func $reserve (param $end i64)
    (local $need i64)
    (if (i64.gt_u (local.get $end) (i64.const 0xFFFF0000)) (then (call $exhaust)))
    (local.set $need
      (i64.sub (i64.shr_u (i64.add (local.get $end) (i64.const 65535)) (i64.const 16))
               (i64.extend_i32_u (memory.size))))
    (if (i64.gt_s (local.get $need) (i64.const 0))
      (then
        (if (i32.eq (memory.grow (i32.wrap_i64 (local.get $need))) (i32.const -1))
          (then (call $exhaust))))))

  (func $exhaust
    (loop $grow
      (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable)

  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $ptr i32) (local $end i64)
    (local.set $ptr (global.get $heap))
    (local.set $end (i64.and
      (i64.add (i64.add (i64.extend_i32_u (local.get $ptr)) (i64.extend_i32_u (local.get $len))) (i64.const 7))
      (i64.const -8)))
    (call $reserve (local.get $end))
    (global.set $heap (i32.wrap_i64 (local.get $end)))
    (local.get $ptr))

  ;; floor(sqrt(n)) for n < 2^53, exact
  (func $isqrt (param $n i64) (result i64)
    (local $r i64)
    (local.set $r (i64.trunc_f64_u (f64.sqrt (f64.convert_i64_u (local.get $n)))))
    (block $down_done
      (loop $down
        (br_if $down_done (i64.le_u (i64.mul (local.get $r) (local.get $r)) (local.get $n)))
        (local.set $r (i64.sub (local.get $r) (i64.const 1)))
        (br $down)))
    (block $up_done
      (loop $up
        (br_if $up_done (i64.gt_u
          (i64.mul (i64.add (local.get $r) (i64.const 1)) (i64.add (local.get $r) (i64.const 1)))
          (local.get $n)))
        (local.set $r (i64.add (local.get $r) (i64.const 1)))
        (br $up)))
    (local.get $r))

  (func $run (export "run") (param $ptr i32) (param $len i32) (result i32)
    (local $from i64) (local $to i64) (local $count i64) (local $largest i64)
    (local $limit i64) (local $half i32) (local $base i32) (local $primes i32) (local $np i32)
    (local $i i32) (local $k i32) (local $p i64) (local $pp i64) (local $q i32)
    (local $seg i32) (local $start i64) (local $segLo i64) (local $segHi i64) (local $cnt i32)
    (local $m i64) (local $j i32) (local $step i32)

    (if (i32.ne (local.get $len) (i32.const 16)) (then unreachable))
    (local.set $from (i64.load (local.get $ptr)))
    (local.set $to (i64.load offset=8 (local.get $ptr)))
    (if (i64.gt_u (local.get $to) (i64.const 0x1000000000000)) (then unreachable))

    (if (i64.lt_u (local.get $from) (local.get $to))
      (then
        ;; 2 is the only even prime
        (if (i32.and (i64.le_u (local.get $from) (i64.const 2)) (i64.gt_u (local.get $to) (i64.const 2)))
          (then (local.set $count (i64.const 1)) (local.set $largest (i64.const 2))))
        (if (i64.gt_u (local.get $to) (i64.const 3))
          (then
            ;; base sieve: byte i stands for 2i + 1, for 2i + 1 <= limit
            (local.set $limit (call $isqrt (i64.sub (local.get $to) (i64.const 1))))
            (local.set $half (i32.wrap_i64 (i64.shr_u (i64.add (local.get $limit) (i64.const 1)) (i64.const 1))))
            (local.set $base (call $alloc (local.get $half)))
            (local.set $primes (global.get $heap))
            (local.set $i (i32.const 1))
            (block $base_done
              (loop $base_loop
                (br_if $base_done (i32.ge_u (local.get $i) (local.get $half)))
                (if (i32.eqz (i32.load8_u (i32.add (local.get $base) (local.get $i))))
                  (then
                    (local.set $p (i64.extend_i32_u (i32.add (i32.shl (local.get $i) (i32.const 1)) (i32.const 1))))
                    ;; keep the prime: the list grows at the heap's end
                    (call $reserve (i64.extend_i32_u (i32.add (local.get $primes) (i32.shl (i32.add (local.get $np) (i32.const 1)) (i32.const 2)))))
                    (i32.store (i32.add (local.get $primes) (i32.shl (local.get $np) (i32.const 2))) (i32.wrap_i64 (local.get $p)))
                    (local.set $np (i32.add (local.get $np) (i32.const 1)))
                    (local.set $pp (i64.mul (local.get $p) (local.get $p)))
                    (if (i64.le_u (local.get $pp) (local.get $limit))
                      (then
                        (local.set $k (i32.wrap_i64 (i64.shr_u (local.get $pp) (i64.const 1))))
                        (local.set $step (i32.wrap_i64 (local.get $p)))
                        (block $mark_done
                          (loop $mark
                            (br_if $mark_done (i32.ge_u (local.get $k) (local.get $half)))
                            (i32.store8 (i32.add (local.get $base) (local.get $k)) (i32.const 1))
                            (local.set $k (i32.add (local.get $k) (local.get $step)))
                            (br $mark)))))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $base_loop)))
            (global.set $heap (i32.add (local.get $primes) (i32.shl (local.get $np) (i32.const 2))))

            ;; segments of odd numbers n = segLo + 2j, j < cnt, n < segHi
            (local.set $seg (call $alloc (global.get $window)))
            (local.set $start (select (local.get $from) (i64.const 3) (i64.gt_u (local.get $from) (i64.const 3))))
            (local.set $start (i64.or (local.get $start) (i64.const 1)))
            (local.set $segLo (local.get $start))
            (block $segs_done
              (loop $segs
                (br_if $segs_done (i64.ge_u (local.get $segLo) (local.get $to)))
                (local.set $segHi (i64.add (local.get $segLo) (i64.extend_i32_u (i32.shl (global.get $window) (i32.const 1)))))
                (if (i64.gt_u (local.get $segHi) (local.get $to)) (then (local.set $segHi (local.get $to))))
                (local.set $cnt (i32.wrap_i64 (i64.shr_u (i64.add (i64.sub (local.get $segHi) (local.get $segLo)) (i64.const 1)) (i64.const 1))))
                (memory.fill (local.get $seg) (i32.const 0) (local.get $cnt))
                (local.set $q (i32.const 0))
                (block $cross_done
                  (loop $cross
                    (br_if $cross_done (i32.ge_u (local.get $q) (local.get $np)))
                    (local.set $p (i64.extend_i32_u (i32.load (i32.add (local.get $primes) (i32.shl (local.get $q) (i32.const 2))))))
                    (local.set $pp (i64.mul (local.get $p) (local.get $p)))
                    (br_if $cross_done (i64.ge_u (local.get $pp) (local.get $segHi)))
                    ;; first odd multiple of p at or above max(p*p, segLo)
                    (local.set $m (i64.mul (i64.div_u (i64.sub (i64.add (local.get $segLo) (local.get $p)) (i64.const 1)) (local.get $p)) (local.get $p)))
                    (if (i64.lt_u (local.get $m) (local.get $pp)) (then (local.set $m (local.get $pp))))
                    (if (i64.eqz (i64.and (local.get $m) (i64.const 1))) (then (local.set $m (i64.add (local.get $m) (local.get $p)))))
                    (local.set $j (i32.wrap_i64 (i64.shr_u (i64.sub (local.get $m) (local.get $segLo)) (i64.const 1))))
                    (local.set $step (i32.wrap_i64 (local.get $p)))
                    (block $strike_done
                      (loop $strike
                        (br_if $strike_done (i32.ge_u (local.get $j) (local.get $cnt)))
                        (i32.store8 (i32.add (local.get $seg) (local.get $j)) (i32.const 1))
                        (local.set $j (i32.add (local.get $j) (local.get $step)))
                        (br $strike)))
                    (local.set $q (i32.add (local.get $q) (i32.const 1)))
                    (br $cross)))
                (local.set $j (i32.const 0))
                (block $count_done
                  (loop $count_loop
                    (br_if $count_done (i32.ge_u (local.get $j) (local.get $cnt)))
                    (if (i32.eqz (i32.load8_u (i32.add (local.get $seg) (local.get $j))))
                      (then
                        (local.set $count (i64.add (local.get $count) (i64.const 1)))
                        (local.set $largest (i64.add (local.get $segLo) (i64.extend_i32_u (i32.shl (local.get $j) (i32.const 1)))))))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $count_loop)))
                (local.set $segLo (i64.add (local.get $segLo) (i64.extend_i32_u (i32.shl (global.get $window) (i32.const 1)))))
                (call $progress (f64.div
                  (f64.convert_i64_u (i64.sub (local.get $segHi) (local.get $start)))
                  (f64.convert_i64_u (i64.sub (local.get $to) (local.get $start)))))
                (br $segs)))))))

    (i32.store (i32.const 0) (i32.const 16))
    (i64.store (i32.const 4) (local.get $count))
    (i64.store (i32.const 12) (local.get $largest))
    (i32.const 0)))

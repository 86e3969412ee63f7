#!/usr/bin/env python3
# CLOCK_REALTIME jumps for test/chaos and bench/chaos. The machine has one realtime clock, shared
# with every process on it, so a jump is held briefly and undone from CLOCK_MONOTONIC (which no
# jump moves): realtime is set back to where it would have been had nothing happened.
#   clock.py offset                  prints realtime - monotonic (ns): what "right" means
#   clock.py jump SECONDS HOLD ...   each jump in turn: realtime += SECONDS, held HOLD s, restored;
#                                    prints "jumped M" / "restored M" (monotonic s) as it goes
#   clock.py restore OFFSET_NS       realtime set to monotonic + OFFSET_NS if it is off by > 1 ms
# Every command ends by checking realtime against monotonic: exit 3 if it is off by >= 50 ms.
import signal, sys, time

R, M = time.CLOCK_REALTIME, time.CLOCK_MONOTONIC


def offset_ns():
    # Monotonic read either side of realtime: their midpoint pairs with it to within the reads.
    m0 = time.clock_gettime_ns(M)
    r = time.clock_gettime_ns(R)
    m1 = time.clock_gettime_ns(M)
    return r - (m0 + m1) // 2


def set_offset(off):
    # A set lands a little (0.5-7 us) after monotonic was read: corrected by what it missed, a
    # few times over, so that jumps do not add up to a drift on the box's clock.
    target = off
    for _ in range(4):
        time.clock_settime_ns(R, time.clock_gettime_ns(M) + target)
        err = offset_ns() - off
        if abs(err) < 300:
            break
        target -= err


def stop(*_):
    # SIGTERM / SIGINT while jumped: unwind through the finally below, which restores.
    raise SystemExit(2)


def check(want):
    drift = abs(offset_ns() - want) / 1e6
    print(f"drift {drift:.3f} ms", flush=True)
    sys.exit(0 if drift < 50 else 3)


cmd = sys.argv[1]
if cmd == "offset":
    print(offset_ns(), flush=True)
elif cmd == "restore":
    want = int(sys.argv[2])
    if abs(offset_ns() - want) > 1_000_000:
        set_offset(want)
    check(want)
elif cmd == "jump":
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    args = sys.argv[2:]
    orig = offset_ns()
    try:
        for i in range(0, len(args), 2):
            secs, hold = float(args[i]), float(args[i + 1])
            set_offset(orig + int(secs * 1e9))
            print(f"jumped {time.monotonic():.6f}", flush=True)
            time.sleep(hold)   # a relative sleep: monotonic, whatever realtime does
            set_offset(orig)
            print(f"restored {time.monotonic():.6f}", flush=True)
            time.sleep(hold)
    finally:
        set_offset(orig)
    check(orig)

"""Timing helpers shared by the benchmark scripts.

The machine is shared and noisy, so implementations are timed interleaved
(one call of each in turn, repeated) in one process, and results are
reported as medians, minimums and ratios rather than single times.
"""
import statistics
import time


def interleaved(funcs, repeat=15, warmup=2, min_time=0.0):
    """Time each callable of ``funcs`` (a dict name -> f) in turn.

    Returns a dict name -> sorted list of seconds per call. Each round
    gives every function one untimed call and then one timed call: a slow
    spell of the machine hits all of them alike, and each is timed the way
    a training loop calls it, right after a call of its own (each library's
    OpenMP threads go to sleep while the other library runs, and waking
    them can cost milliseconds on this virtual machine).
    """
    for _ in range(warmup):
        for f in funcs.values():
            f()
    times = {name: [] for name in funcs}
    start = time.perf_counter()
    rounds = 0
    while rounds < repeat or time.perf_counter() - start < min_time:
        for name, f in funcs.items():
            f()
            t0 = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t0)
        rounds += 1
    return {name: sorted(ts) for name, ts in times.items()}


def median(ts):
    return statistics.median(ts)


def table(rows, headers):
    """Format rows (lists of str) under headers as an aligned text table."""
    widths = [max(len(h), *(len(r[i]) for r in rows))
              for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    return "\n".join(out)


def set_torch_threads(torch, n):
    """Give PyTorch n intra-op threads (its own pool)."""
    if torch is not None:
        torch.set_num_threads(n)

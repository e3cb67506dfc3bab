"""Wall-clock time of the pattern matcher's worst wildcard case against a bound of a few ms.

``{"wildcard": "*a*a*a*a*b"}`` against 400 ``a`` took 88 s when wildcards were regexes
(``.*a.*a.*a.*a.*b`` backtracks in O(n^k) for k stars). The matcher now matches the literal
pieces between stars, O(len(pattern) x len(value)) at worst; "*ab*ab*ab*b" is timed too, as it
makes the new matcher search the whole value. For scale, the old regex is timed on a value a
quarter as long. Prints times and ratios; a measurement, not a test: it never fails.

    .venv/bin/python benchmarks/patterns.py [value_length] [repeats]
"""

from __future__ import annotations

import re
import statistics
import sys
import time

from lambda_lab.patterns import matches

WILDCARD = "*a*a*a*a*b"
BOUND_S = 0.005  # "a few milliseconds" for one match of a 400-character value


def old_regex(arg: str) -> re.Pattern[str]:
    """The matcher's wildcard translation before the fix, kept here for comparison only."""
    parts = re.findall(r"\\[*\\]|\*|[^*\\]+", arg)
    return re.compile("".join(".*" if p == "*" else re.escape(p[-1] if p[0] == "\\" else p)
                              for p in parts), re.DOTALL)


def median_s(action, repeats: int) -> float:
    """Median wall-clock seconds of ``repeats`` calls of ``action``."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(n: int = 400, repeats: int = 5) -> None:
    pattern = {"v": [{"wildcard": WILDCARD}]}
    miss, hit = {"v": "a" * n}, {"v": "a" * n + "b"}
    assert matches(pattern, miss) is False and matches(pattern, hit) is True
    print(f'wildcard "{WILDCARD}" against {n} characters, median of {repeats} runs (wall clock)')
    search = {"v": [{"wildcard": "*ab*ab*ab*b"}]}
    cases = (("no match (old worst)", pattern, miss), ("match", pattern, hit),
             ('"*ab*ab*ab*b", no match', search, hit))
    for label, rule, event in cases:
        seconds = median_s(lambda: matches(rule, event), repeats)
        print(f"  {label:24s} {seconds * 1e3:9.3f} ms   ratio to {BOUND_S * 1e3:.0f} ms bound "
              f"{seconds / BOUND_S:6.3f}")
    short = "a" * (n // 4)
    seconds = median_s(lambda: old_regex(WILDCARD).fullmatch(short), 1)
    print(f"  {'old regex, ' + str(len(short)) + ' chars':24s} {seconds * 1e3:9.3f} ms   "
          "(the issue measured 88 s at 400 characters)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))

#!/usr/bin/python3
"""Case folding: ws_lower() (libunistring) against Python's str.lower().

Upstream lowercases with str.lower() wherever it compares without case
(permission keywords and album name tokens, "does the asset already have
this tag", the folder path excluded_paths searches).  This runs every code
point alone, every cased one between letters (final sigma and other
context rules), and a list of real names through both and compares.

Usage: lower_diff.py PATH/TO/lower_driver
"""
import json
import subprocess
import sys

NAMES = [
    "\u00c9t\u00e9 \u00e0 Paris 2012", "\u00e9t\u00e9", "\u0130stanbul",
    "D\u0130YARBAKIR", "\u039f\u0394\u039f\u03a3", "\u039f\u0394\u039f\u03a3 \u03a4\u03a1\u0399\u03a0",
    "\u03a3", "\u03a3\u03a3", "A\u03a3.B", "A\u03a3'", "Stra\u00dfe", "STRASSE",
    "\u01c5ungla", "\u1e9e", "\u0049\u0307", "\uff21\uff22\uff23",
    "\U00010400\U00010401", "\u2160\u2161", "\u24b6\u24b7", "ABC-def_GHI.jkl",
    "Famille\u00a0Dupont", "K\u212a\u00c5\u212b", "\u0178\u00ff", "",
]


def main():
    driver = sys.argv[1]
    strings = []
    cased = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        strings.append(c)
        if c.lower() != c or c.upper() != c:
            cased.append(c)
    for c in cased:
        strings.append("A" + c)          # word-final
        strings.append("A" + c + "B")    # word-medial
        strings.append("A" + c + " B")   # before a space
    strings.extend(NAMES)
    res = subprocess.run([driver], input=json.dumps(strings).encode(),
                         capture_output=True, check=False)
    if res.returncode != 0:
        sys.stderr.write(res.stderr.decode(errors="replace"))
        sys.exit("lower_diff: the driver failed (%d)" % res.returncode)
    got = json.loads(res.stdout)
    bad = [(s, s.lower(), g) for s, g in zip(strings, got) if s.lower() != g]
    print("lower_diff: %d strings (%d cased code points), %d differ"
          % (len(strings), len(cased), len(bad)))
    for s, want, g in bad[:25]:
        print("  %r: Python %r, ws_lower %r" % (s, want, g))
    return 1 if bad or len(got) != len(strings) else 0


if __name__ == "__main__":
    sys.exit(main())

"""csv-equal.py A.csv B.csv: exit 0 when two merged sweep tables are equal
apart from the host timing columns (host_seconds, accesses_per_host_second),
which measure the machine, not the model."""
import csv
import sys

HOST = {"host_seconds", "accesses_per_host_second"}


def rows(path):
    with open(path, newline="") as f:
        table = list(csv.reader(f))
    keep = [i for i, name in enumerate(table[0]) if name not in HOST]
    return [[row[i] for i in keep] for row in table]


a, b = rows(sys.argv[1]), rows(sys.argv[2])
if a != b:
    for i, (ra, rb) in enumerate(zip(a, b)):
        if ra != rb:
            print(f"first difference at line {i + 1}:\n  {ra}\n  {rb}", file=sys.stderr)
            break
    else:
        print(f"{len(a)} vs {len(b)} lines", file=sys.stderr)
    sys.exit(1)
print(f"equal: {len(a) - 1} points, {len(a[0]) - len(HOST)} columns compared")

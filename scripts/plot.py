"""Plots for rmpsim outputs; see scripts/plot for the usage."""
import json
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

COMPONENTS = ["exit", "userspace", "rmpupdate", "psmash", "flush", "npt", "pvalidate", "guest"]


def split_label(arg):
    path, _, label = arg.partition(":")
    return path, label or path


def read_events(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cdf(out, args):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for arg in args:
        path, label = split_label(arg)
        lat = sorted(e["cycles"] for e in read_events(path) if e["type"] == "conversion")
        if not lat:
            continue
        ys = [(i + 1) / len(lat) for i in range(len(lat))]
        ax.step(lat, ys, where="post", label=f"{label} ({len(lat)})")
    ax.set_xscale("log")
    ax.set_xlabel("conversion latency (cycles)")
    ax.set_ylabel("fraction of conversions")
    ax.set_title("Conversion latency CDF")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def faults(out, args):
    events = read_events(args[0])
    kinds = sorted({e["type"] for e in events})
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for k in kinds:
        xs = [e["cycle"] for e in events if e["type"] == k]
        ax.plot(xs, range(1, len(xs) + 1), drawstyle="steps-post", label=k)
    ax.set_xlabel("simulated cycle")
    ax.set_ylabel("cumulative count")
    ax.set_title("Faults, exits and conversions over time")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def breakdown(out, args):
    labels, rows = [], []
    for arg in args:
        path, label = split_label(arg)
        stats = json.load(open(path))
        conv = stats["stats"]["system"]["conversions"]
        for trigger, c in conv.items():
            if not isinstance(c, dict) or "cost" not in c or c["count"] == 0:
                continue
            labels.append(f"{label}\n{trigger}")
            rows.append([c["cost"][k] / c["count"] for k in COMPONENTS])
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(labels)), 4.5))
    bottom = [0.0] * len(labels)
    for i, comp in enumerate(COMPONENTS):
        vals = [r[i] for r in rows]
        ax.bar(labels, vals, bottom=bottom, label=comp)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_ylabel("cycles per conversion")
    ax.set_title("Conversion cost by component")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def sweep(out, args):
    """A metric against a swept axis, one line per value of a second column
    (--by) and per trace when the sweep has several; failed and missing points
    are left out."""
    import argparse
    import csv

    ap = argparse.ArgumentParser(prog="scripts/plot sweep OUT.png")
    ap.add_argument("results", help="DIR/results.csv from rmpsim sweep merge")
    ap.add_argument("--x", required=True, help="swept key for the x axis")
    ap.add_argument("--y", required=True, help="metric column, e.g. walks or "
                    "conversion_latency_cycles.p50")
    ap.add_argument("--by", help="column that separates the lines (e.g. hypervisor.policy)")
    ap.add_argument("--logx", action="store_true")
    opt = ap.parse_args(args)
    with open(opt.results, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["status"] == "ok"]
    if not rows:
        sys.exit(f"{opt.results}: no finished points to plot")
    for col in filter(None, (opt.x, opt.y, opt.by)):
        if col not in rows[0]:
            sys.exit(f"{opt.results}: no column '{col}'; columns: {', '.join(rows[0])}")
    several_traces = len({r["trace"] for r in rows}) > 1
    lines = {}
    for r in rows:
        label = " ".join(filter(None, (r["trace"] if several_traces else "",
                                       f"{opt.by}={r[opt.by]}" if opt.by else "")))
        lines.setdefault(label, []).append((float(r[opt.x]), float(r[opt.y])))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    def natural(label):  # "x=64" before "x=256"
        import re
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", label)]

    for label, pts in sorted(lines.items(), key=lambda kv: natural(kv[0])):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label or opt.y)
    if opt.logx:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(opt.x)
    ax.set_ylabel(opt.y)
    ax.set_title(f"{opt.y} against {opt.x}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


PLOTS = {"cdf": cdf, "faults": faults, "breakdown": breakdown, "sweep": sweep}


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in PLOTS:
        sys.exit(__doc__ + "\nusage: scripts/plot cdf|faults|breakdown|sweep OUT.png INPUT...")
    PLOTS[sys.argv[1]](sys.argv[2], sys.argv[3:])
    print(sys.argv[2])


if __name__ == "__main__":
    main()

"""Plots for rmpsim outputs; see scripts/plot for the usage."""
import json
import sys

try:
    import matplotlib
except ImportError:
    sys.exit("scripts/plot.py: error: needs matplotlib: apt-get install python3-matplotlib "
             "(scripts/plot installs it for you)")

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

# "svsm" is in a conversion's cost only under an SVSM (guest.svsm): read with .get().
COMPONENTS = ["exit", "userspace", "rmpupdate", "psmash", "flush", "npt", "pvalidate", "guest",
              "svsm"]


def split_label(arg):
    path, _, label = arg.partition(":")
    return path, label or path


def read_events(path):
    """The events of an --events file in cycle order (the file is not sorted:
    docs/events.md, "Order")."""
    with open(path) as f:
        events = [json.loads(line) for line in f if line.strip()]
    return sorted(events, key=lambda e: e["cycle"])


def option(args, name):
    """Removes a flag from args; whether it was there."""
    if name in args:
        args.remove(name)
        return True
    return False


def nothing_to_plot(out, title, message):
    """A figure that says why it is empty, instead of empty axes."""
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"{out}: {message}", file=sys.stderr)


def cdf(out, args):
    """Latency CDF: one point per conversion, or with --per-page one per
    conversion of its latency divided by its 4K pages."""
    per_page = option(args, "--per-page")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plotted = 0
    for arg in args:
        path, label = split_label(arg)
        conv = [e for e in read_events(path) if e["type"] == "conversion"]
        lat = sorted(e["cycles"] / max(1, e["pages"]) if per_page else e["cycles"] for e in conv)
        if not lat:
            continue
        plotted += 1
        ys = [(i + 1) / len(lat) for i in range(len(lat))]
        ax.step(lat, ys, where="post", label=f"{label} ({len(lat)} conversions)")
    if not plotted:
        plt.close(fig)
        return nothing_to_plot(out, "Conversion latency CDF",
                               "no conversions in " + ", ".join(args))
    ax.set_xscale("log")
    if per_page:
        ax.set_xlabel("conversion latency per 4K page (cycles; each conversion's latency / its pages)")
        ax.set_title("Conversion latency per page, CDF over conversions")
    else:
        ax.set_xlabel("conversion latency (cycles, whole conversion)")
        ax.set_title("Conversion latency, CDF over conversions")
    ax.set_ylabel("fraction of conversions")
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
    """Mean cost by component per conversion (or with --per-page per 4K page
    converted), one bar per run and trigger; --log for a log scale when
    sizes are mixed (a 2M conversion beside 4K ones)."""
    per_page = option(args, "--per-page")
    log = option(args, "--log")
    labels, rows = [], []
    for arg in args:
        path, label = split_label(arg)
        stats = json.load(open(path))
        conv = stats["stats"]["system"]["conversions"]
        for trigger, c in conv.items():
            if not isinstance(c, dict) or "cost" not in c or c["count"] == 0:
                continue
            labels.append(f"{label}\n{trigger}")
            per = max(1, c["pages"]) if per_page else c["count"]
            rows.append([c["cost"].get(k, 0) / per for k in COMPONENTS])
    if not rows:
        return nothing_to_plot(out, "Conversion cost by component",
                               "no conversions in " + ", ".join(split_label(a)[1] for a in args) +
                               ": nothing to break down")
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(labels)), 4.5))
    bottom = [0.0] * len(labels)
    for i, comp in enumerate(COMPONENTS):
        vals = [r[i] for r in rows]
        ax.bar(labels, vals, bottom=bottom, label=comp)
        bottom = [b + v for b, v in zip(bottom, vals)]
    if log:
        ax.set_yscale("log")
    ax.set_ylabel("cycles per 4K page converted" if per_page else "cycles per conversion")
    ax.set_title("Conversion cost by component" + (" (per page)" if per_page else ""))
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
    ap.add_argument("--x", required=True, help="swept key for the x axis, or 'trace': the "
                    "first number in each trace's file name (guest-4g.rmpt: 4)")
    ap.add_argument("--y", required=True, help="metric column, e.g. walks or "
                    "conversion_latency_cycles.p50")
    ap.add_argument("--by", help="column that separates the lines (e.g. hypervisor.policy)")
    ap.add_argument("--logx", action="store_true")
    ap.add_argument("--diff", metavar="VALUE", help="with --by: plot, per x, the metric at "
                    "--by=VALUE minus the metric of each other --by value (e.g. cycles saved)")
    opt = ap.parse_args(args)
    if opt.diff is not None and not opt.by:
        sys.exit("scripts/plot sweep: --diff needs --by")
    with open(opt.results, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["status"] == "ok"]
    if not rows:
        sys.exit(f"{opt.results}: no finished points to plot")
    for col in filter(None, (opt.x, opt.y, opt.by)):
        if col not in rows[0]:
            sys.exit(f"{opt.results}: no column '{col}'; columns: {', '.join(rows[0])}")
    import os
    import re

    def x_of(r):
        if opt.x != "trace":
            return float(r[opt.x])
        m = re.search(r"\d+", os.path.basename(r["trace"]))
        if not m:
            sys.exit(f"{opt.results}: --x trace: no number in the trace name '{r['trace']}'")
        return float(m.group())

    several_traces = opt.x != "trace" and len({r["trace"] for r in rows}) > 1
    lines = {}
    for r in rows:
        label = " ".join(filter(None, (r["trace"] if several_traces else "",
                                       f"{opt.by}={r[opt.by]}" if opt.by else "")))
        lines.setdefault(label, []).append((x_of(r), float(r[opt.y])))
    y_label = opt.y
    if opt.diff is not None:
        # Each line's label ends in "BY=VALUE"; its base is the same label
        # ending in "BY=DIFF".
        def base_of(label):
            return label.rsplit(f"{opt.by}=", 1)[0] + f"{opt.by}={opt.diff}"

        if not any(lbl == base_of(lbl) for lbl in lines):
            sys.exit(f"{opt.results}: --diff {opt.diff}: no points with {opt.by}={opt.diff}")
        diffs = {}
        for lbl, pts in lines.items():
            if lbl == base_of(lbl):
                continue
            ref = dict(lines.get(base_of(lbl), []))
            diffs[f"{base_of(lbl)} minus {lbl}"] = [(x, ref[x] - y) for x, y in pts if x in ref]
        lines = diffs
        y_label = f"{opt.y} saved (at {opt.by}={opt.diff} minus the others)"
    fig, ax = plt.subplots(figsize=(7, 4.5))
    def natural(label):  # "x=64" before "x=256"
        import re
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", label)]

    for label, pts in sorted(lines.items(), key=lambda kv: natural(kv[0])):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label or opt.y)
    if opt.logx:
        ax.set_xscale("log", base=2)
    x_label = "the number in the trace's name" if opt.x == "trace" else opt.x
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(f"{y_label} against {x_label}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


TRIGGER_EDGES = {"implicit": "black", "psc_msr": "tab:red", "psc_ghcb": "tab:blue",
                 "lazy_accept": "tab:green"}


def timeline(out, args):
    """Conversions per vCPU over time, from --events: each conversion a bar
    from its start to its end, split by component (in the fixed order of
    COMPONENTS, in proportion to each component's cycles: the components are
    sums, not intervals, so the order within a bar is not the order they
    happened in), its edge colour the trigger; PSC requests are ticks above
    the bars."""
    events = read_events(args[0])
    conv = [e for e in events if e["type"] == "conversion"]
    if not conv:
        return nothing_to_plot(out, "Conversions per vCPU", f"no conversions in {args[0]}")
    vcpus = sorted({e["vcpu"] for e in events})
    row = {v: i for i, v in enumerate(vcpus)}
    colours = {c: plt.get_cmap("tab10")(i) for i, c in enumerate(COMPONENTS)}
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.9 * len(vcpus)))
    for c in conv:
        y = row[c["vcpu"]]
        start, total = c["cycle"], max(1, c["cycles"])
        parts = sum(c["cost"].values()) or 1
        x = start
        for comp in COMPONENTS:
            w = total * c["cost"].get(comp, 0) / parts
            if w > 0:
                ax.broken_barh([(x, w)], (y - 0.3, 0.6), facecolors=colours[comp])
                x += w
        ax.broken_barh([(start, total)], (y - 0.3, 0.6), facecolors="none",
                       edgecolors=TRIGGER_EDGES.get(c["trigger"], "grey"), linewidth=1.2)
    psc = [e for e in events if e["type"] == "psc"]
    if psc:
        ax.scatter([e["cycle"] for e in psc], [row[e["vcpu"]] + 0.38 for e in psc], marker="|",
                   s=40, color="dimgrey")
    ax.set_yticks(range(len(vcpus)))
    ax.set_yticklabels([f"vCPU {v}" for v in vcpus])
    ax.set_ylim(-0.7, len(vcpus) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel("simulated cycle")
    ax.set_title(f"Conversions per vCPU ({len(conv)}), bars split by component, edge = trigger")
    handles = [Patch(facecolor=colours[c], label=c) for c in COMPONENTS]
    handles += [Patch(facecolor="none", edgecolor=col, label=f"trigger {t}")
                for t, col in TRIGGER_EDGES.items() if any(c["trigger"] == t for c in conv)]
    if psc:
        handles.append(plt.Line2D([], [], color="dimgrey", marker="|", linestyle="none",
                                  label="PSC request"))
    ax.legend(handles=handles, fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


PLOTS = {"cdf": cdf, "faults": faults, "breakdown": breakdown, "sweep": sweep,
         "timeline": timeline}


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in PLOTS:
        sys.exit(__doc__ + "\nusage: scripts/plot cdf|faults|breakdown|sweep|timeline OUT.png "
                 "INPUT...")
    PLOTS[sys.argv[1]](sys.argv[2], sys.argv[3:])
    print(sys.argv[2])


if __name__ == "__main__":
    main()
